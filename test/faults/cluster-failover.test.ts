import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { expect, it } from 'vitest'
import { type RedisClient, RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js'
import { cli } from '../redis/server.js'
import { migrateBusySlots, type ReplicatedCluster, startReplicatedCluster } from './cluster.js'
import { expectAcknowledgedKept } from './guarantees.js'
import { describeSummary, explainFindings } from './history.js'
import { describeWithRedis } from './services.js'
import { runWorkload, type WorkloadResult } from './workload.js'

/** A Cluster client with the settings docs/failure-model.md recommends, and how to close it. */
type ClusterClient = { client: RedisClient; close(): Promise<void> }

async function ioredisCluster(cluster: ReplicatedCluster): Promise<ClusterClient> {
  const client = new Cluster(cluster.running(), {
    enableOfflineQueue: false,
    redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false },
  })
  client.on('error', () => undefined)
  await new Promise<void>((resolve) => client.once('ready', () => resolve()))
  return { client, close: async () => void client.disconnect() }
}

async function nodeRedisCluster(cluster: ReplicatedCluster): Promise<ClusterClient> {
  const client = createCluster({
    rootNodes: cluster.running().map(({ host, port }) => ({ socket: { host, port } })),
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: 1000 } },
  })
  client.on('error', () => undefined)
  await client.connect()
  return { client, close: async () => void client.destroy() }
}

/** A fresh 3 + 3 cluster, a Cluster client (ioredis unless told), the workload, cleanup. */
async function underLoad(
  name: string,
  fault: (cluster: ReplicatedCluster, mark: (label: string) => void) => Promise<void>,
  options: Omit<RedisStoreOptions, 'client'> = {},
  connect: (cluster: ReplicatedCluster) => Promise<ClusterClient> = ioredisCluster,
): Promise<WorkloadResult> {
  const cluster = await startReplicatedCluster()
  const { client, close } = await connect(cluster)
  try {
    const store = new RedisStore({ client, ...options })
    const result = await runWorkload(store, { fault: (mark) => fault(cluster, mark), settleMs: 2_000 })
    console.log(describeSummary(name, result.summary))
    for (const line of explainFindings(result, ['lostSessions', 'lostUpdates', 'resurrected', 'lostAfterFailure']))
      console.log(line)
    return result
  } finally {
    await close()
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
    expectAcknowledgedKept({ summary, findings })
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
    expectAcknowledgedKept({ summary, findings })
    // findings.rolledBack may be non-empty: a write that failed (WAIT unconfirmed) was served for a
    // moment and discarded by the failover. Never an acknowledged one (lostUpdates, wrongCounts).
    expect(summary.windowMs).toBeLessThan(20_000)
  })

  it.each([
    { name: 'ioredis Cluster', connect: ioredisCluster },
    { name: 'node-redis createCluster', connect: nodeRedisCluster },
  ])(
    'migration of busy slots (MIGRATING/IMPORTING + MIGRATE), $name: every operation succeeds or fails closed',
    async ({ name, connect }) => {
      let moved = { slots: 0, keys: 0 }
      const fault = async (cluster: ReplicatedCluster) => {
        // A few rounds: the sessions in use change while the slots move. Sessions are short-lived
        // here (regenerated and deleted all the time), so a round may find its keys gone before it
        // moves them: go on (at most 12 rounds) until at least one key really moved.
        for (let round = 0; round < 12 && (round < 4 || moved.keys === 0); round++) {
          const { slots, keys } = await migrateBusySlots(cluster, 'ruts:*', 10)
          moved = { slots: moved.slots + slots, keys: moved.keys + keys }
        }
      }
      const { summary, findings } = await underLoad(`cluster slot migration (${name})`, fault, {}, connect)
      console.log(`[faults] migrated ${moved.slots} busy slots, ${moved.keys} keys`)
      expect(moved.keys).toBeGreaterThan(0)
      // Redirections are followed, so a migration fails (almost) nothing. A read split across nodes (a
      // pipeline whose keyless command stayed on the source) once failed ~35 requests of ~6800 here;
      // later 1–2 reads per run failed where a node loaded a library mid-migration, and a regenerate's
      // request that failed that way signed its user out (lostAfterFailure). Since every master gets
      // every library at once (test/redis/cluster-migrating-load.test.ts), no request failed in 5 runs.
      expect(summary.unavailable).toBeLessThan(10)
      expectAcknowledgedKept({ summary, findings })
      // A request that fails closed may sign its user out (a regenerate that failed mid-move), which
      // the contract allows; bounded here rather than zero, because the mechanism that did it is
      // asserted deterministically in test/redis/cluster-migrating-load.test.ts.
      expect(findings.lostAfterFailure.length).toBeLessThanOrEqual(2)
      expect(findings.rolledBack).toEqual([])
    },
  )
})
