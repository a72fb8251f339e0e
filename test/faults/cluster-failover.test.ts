import { Cluster } from 'ioredis'
import { expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js'
import { cli } from '../redis/server.js'
import { migrateBusySlots, type ReplicatedCluster, startReplicatedCluster } from './cluster.js'
import { describeSummary, explainFindings } from './history.js'
import { describeWithRedis } from './services.js'
import { runWorkload, type WorkloadResult } from './workload.js'

/** A fresh 3 + 3 cluster, an ioredis Cluster client with the README's settings, the workload, cleanup. */
async function underLoad(
  name: string,
  fault: (cluster: ReplicatedCluster, mark: (label: string) => void) => Promise<void>,
  options: Omit<RedisStoreOptions, 'client'> = {},
): Promise<WorkloadResult> {
  const cluster = await startReplicatedCluster()
  const client = new Cluster(cluster.running(), {
    enableOfflineQueue: false,
    redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false },
  })
  client.on('error', () => undefined)
  try {
    await new Promise<void>((resolve) => client.once('ready', () => resolve()))
    const store = new RedisStore({ client, ...options })
    const result = await runWorkload(store, { fault: (mark) => fault(cluster, mark), settleMs: 2_000 })
    console.log(describeSummary(name, result.summary))
    for (const line of explainFindings(result, ['lostSessions', 'lostUpdates', 'resurrected', 'lostAfterFailure']))
      console.log(line)
    return result
  } finally {
    client.disconnect()
    await cluster.stop()
  }
}

describeWithRedis('Redis Cluster (3 masters + 3 replicas) under load', () => {
  it('CLUSTER FAILOVER: fails closed and loses no acknowledged write', async () => {
    const { summary, findings } = await underLoad('cluster failover (ioredis Cluster)', async (cluster) => {
      const { replica } = await cluster.pair()
      await cli(replica.port, 'CLUSTER', 'FAILOVER')
      await cluster.settled(replica.port)
    })
    expect(findings.badResponses).toEqual([])
    expect(findings.foreignData).toEqual([])
    expect(summary.resumed).toBeGreaterThan(10)
    expect(findings.resurrected).toEqual([])
    expect(findings.lostUpdates).toEqual([])
    expect(findings.lostSessions).toEqual([])
    expect(findings.wrongCounts).toEqual([])
    // A graceful failover waits for the replica to catch up: nothing is rolled back.
    expect(findings.rolledBack).toEqual([])
    expect(summary.windowMs).toBeLessThan(10_000)
  })

  it('kill -9 of a master: fails closed; acknowledged writes the replica had not received are lost, and counted', async () => {
    const { summary, findings } = await underLoad('cluster kill -9 (ioredis Cluster)', async (cluster) => {
      const { master, replica } = await cluster.pair()
      await cluster.processes.find((each) => each.port === master.port)?.stop(true)
      await cluster.settled(replica.port)
    })
    expect(findings.badResponses).toEqual([])
    expect(findings.foreignData).toEqual([])
    expect(summary.resumed).toBeGreaterThan(10)
    // Asynchronous replication: what the master acknowledged in its last moments may be gone.
    // On loopback that is a few writes at most; the bound catches a store that loses far more.
    const losses = ['lostUpdates', 'lostSessions', 'resurrected', 'wrongCounts', 'rolledBack'] as const
    expect(losses.reduce((sum, kind) => sum + findings[kind].length, 0)).toBeLessThan(summary.operations / 10)
    expect(summary.windowMs).toBeLessThan(20_000)
  })

  it('kill -9 of a master with waitForReplicas: no acknowledged write lost, no session resurrected', async () => {
    const { summary, findings } = await underLoad(
      'cluster kill -9 + waitForReplicas (ioredis Cluster)',
      async (cluster, mark) => {
        const { master, replica } = await cluster.pair()
        mark(`kill -9 ${master.port}`)
        await cluster.processes.find((each) => each.port === master.port)?.stop(true)
        mark('killed')
        await cluster.settled(replica.port)
        mark(`${replica.port} promoted`)
        // The promoted replica has no replica of its own: its writes fail (fail closed) until the
        // old master comes back as its replica.
        mark(`restarting ${master.port}`)
        await cluster.restart(master.port)
        mark(`${master.port} back as a replica`)
      },
      { waitForReplicas: { replicas: 1, timeout: 1000 } },
    )
    expect(findings.badResponses).toEqual([])
    expect(findings.foreignData).toEqual([])
    expect(summary.resumed).toBeGreaterThan(10)
    expect(findings.resurrected).toEqual([])
    expect(findings.lostUpdates).toEqual([])
    expect(findings.lostSessions).toEqual([])
    expect(findings.wrongCounts).toEqual([])
    // findings.rolledBack may be non-empty: a write that failed (WAIT unconfirmed) was served for a
    // moment and discarded by the failover. Never an acknowledged one (lostUpdates, wrongCounts).
    expect(summary.windowMs).toBeLessThan(20_000)
  })

  it('migration of busy slots (MIGRATING/IMPORTING + MIGRATE): every operation succeeds or fails closed', async () => {
    let moved = { slots: 0, keys: 0 }
    const { summary, findings } = await underLoad('cluster slot migration (ioredis Cluster)', async (cluster) => {
      // A few rounds: the sessions in use change while the slots move. Sessions are short-lived
      // here (regenerated and deleted all the time), so a round may find its keys gone before it
      // moves them: go on (at most 12 rounds) until at least one key really moved.
      for (let round = 0; round < 12 && (round < 4 || moved.keys === 0); round++) {
        const { slots, keys } = await migrateBusySlots(cluster, 'ruts:*', 10)
        moved = { slots: moved.slots + slots, keys: moved.keys + keys }
      }
    })
    console.log(`[faults] migrated ${moved.slots} busy slots, ${moved.keys} keys`)
    expect(moved.keys).toBeGreaterThan(0)
    // Redirections are followed, so a migration fails (almost) nothing. A read split across nodes (a
    // pipeline whose keyless command stayed on the source) once failed ~35 requests of ~6800 here;
    // later 1–2 reads per run failed where a node loaded a library mid-migration, and a regenerate's
    // request that failed that way signed its user out (lostAfterFailure). No failed read in
    // 16 runs since.
    expect(summary.unavailable).toBeLessThan(10)
    expect(findings.badResponses).toEqual([])
    expect(findings.foreignData).toEqual([])
    expect(summary.resumed).toBeGreaterThan(10)
    expect(findings.resurrected).toEqual([])
    expect(findings.lostUpdates).toEqual([])
    expect(findings.lostSessions).toEqual([])
    // Not yet zero: a regenerate that fails mid-migration (503) can leave its session at neither id
    // (lostAfterFailure, the user signed out). Once in 16 runs since the read fix; the suspected path
    // is a rename step whose library the serving node lacks, sent as a staged script whose staging
    // list is itself redirected (docs/failure-model.md). Allowed by the contract for a failed request,
    // bounded here.
    expect(findings.lostAfterFailure.length).toBeLessThanOrEqual(2)
    expect(findings.wrongCounts).toEqual([])
    expect(findings.rolledBack).toEqual([])
  })
})
