import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createSentinel } from 'redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStore } from '../../src/stores/redis/index.js'
import { bytes, sleep } from '../../src/testing/values.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { MASTER_NAME, type SentinelTopology, startSentinelTopology } from '../redis/sentinel-topology.js'
import { expectAcknowledgedKept } from './guarantees.js'
import { describeSummary, explainFindings } from './history.js'
import { describeWithRedis } from './services.js'
import { runWorkload } from './workload.js'

/** The WAIT timeout docs/redis.md recommends: short, hundreds of ms. */
const WAIT_TIMEOUT = 500

// SENTINEL FAILOVER promotes the replica without pausing the old primary, which keeps
// acknowledging writes until the clients move; those writes vanish when it is demoted. With
// waitForReplicas a write is acknowledged only once the replica (the next primary) holds it.
describeWithRedis('Sentinel failover under load, with waitForReplicas', () => {
  let topology: SentinelTopology
  let client: Redis
  /** An ioredis Sentinel client with the settings docs/redis.md recommends. */
  async function ioredisClient(enableAutoPipelining: boolean): Promise<Redis> {
    const connected = new Redis({
      sentinels: topology.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      name: MASTER_NAME,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A command the store already reported failed must never land later, over a newer write.
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
      enableAutoPipelining,
    })
    connected.on('error', () => undefined)
    await connected.connect()
    return connected
  }

  beforeAll(async () => {
    topology = await startSentinelTopology()
    client = await ioredisClient(false)
  })
  afterAll(async () => {
    client?.disconnect()
    await topology?.stop()
  })

  /** Fail over under load through `store`, print the summary, check the guarantees of waitForReplicas. */
  async function failoverWithWaitForReplicas(name: string, store: RedisStore): Promise<void> {
    // A failover right after the previous test's: wait until writes can be confirmed again.
    await topology.synced()
    // A session written (and confirmed) before the failover, read through the same store every
    // 200 ms while writes cannot be confirmed.
    const known = randomBytes(32).toString('base64url')
    await store.write(known, 'user', bytes('ada'), writeOptionsFor('create', 600))
    const reads = { ok: 0, failed: 0, missing: 0 }
    let failedOver = 0
    let synced = 0
    const result = await runWorkload(store, {
      fault: async (mark) => {
        mark(`failover from ${(await topology.primaryAddress()).port}`)
        failedOver = performance.now()
        await topology.failover()
        mark(`sentinels name ${(await topology.primaryAddress()).port}`)
        let watching = true
        const watcher = (async () => {
          await sleep(1_000) // the clients move to the new primary
          while (watching) {
            const read = await store.get(known, 'user').catch(() => undefined)
            if (read === undefined) reads.failed++
            else if (read.live) reads.ok++
            else reads.missing++
            await sleep(200)
          }
        })()
        // The new primary's only possible replica is the demoted one, which Sentinel converts no
        // sooner than 8 s after it last reported itself primary (SENTINEL_PUBLISH_PERIOD * 4 in
        // sentinel.c), at its next INFO (every 10 s): until it has resynced, no write can be confirmed.
        await topology.synced(45_000)
        synced = performance.now()
        // Reads go on for a moment after the resync: by then they must answer again.
        await sleep(3_000)
        watching = false
        await watcher
        mark('replica in sync')
      },
      settleMs: 2_000,
    })
    const { summary, findings } = result
    const failures = result.history.filter((operation) => operation.status === 503)
    const lastFailure = Math.max(...failures.map((operation) => operation.end))
    console.log(describeSummary(name, summary))
    console.log(
      `[faults] failover -> replica in sync ${Math.round(synced - failedOver)} ms; last 503 ${Math.round(lastFailure - synced)} ms after it; reads of a confirmed session meanwhile: ${JSON.stringify(reads)}`,
    )
    for (const line of explainFindings(result, ['lostSessions', 'lostUpdates', 'resurrected', 'wrongCounts'])) {
      console.log(line)
    }
    expectAcknowledgedKept({ summary, findings })
    // findings.rolledBack may be non-empty, and is printed in the summary: until the clients move,
    // the demoted primary applies writes it cannot get confirmed (they fail with 503) and serves
    // them to reads; the failover then discards them. What was acknowledged is never lost.
    expect(summary.byKind.update ?? 0).toBeGreaterThan(10)
    // The window is Sentinel's (above): the failover (~1–3 s), up to 8 s + an INFO period of 10 s,
    // then the resync, so it is bounded by synced(45 s) and not asserted on its own (a run in CI
    // took 30.2 s while the resync still waited repl-diskless-sync-delay's 5 s). The store's part is
    // to recover soon after the replica is back, and to keep reads answering meanwhile (a WAIT
    // blocks its connection, so while every write waited its turn, reads behind them timed out too).
    // "Soon": Sentinel kills the demoted primary's clients when it converts it, just before the
    // resync, so a probe can be lost with its connection and hold the gate for 2 WAIT timeouts; then
    // one probe may still time out; plus the client's reconnect (1.4–1.9 s in all for ioredis,
    // ~0 for node-redis, which rejects what it loses at once).
    expect(failures.length).toBeGreaterThan(0)
    expect(lastFailure - synced).toBeLessThan(3 * WAIT_TIMEOUT + 2_000)
    expect(reads.missing).toBe(0)
    // The writes in flight when the replica went away each still block the connection for one WAIT
    // timeout (16 clients × 500 ms = 8 s), and the client then reconnects (up to ~2 s for ioredis); a
    // read behind them fails after the store's 2 s timeout, so at most 5 can fail. How many answer
    // before the resync varies with that backlog: 6–18 in most runs, 3 in one CI run (2 failed), none
    // in another (5 failed, ioredis without auto-pipelining), and 1–3 with the gate switched off (3–4
    // failed), so the count cannot tell the gate's work here. That reads keep answering while no write
    // can be confirmed is shown deterministically in test/redis/sentinel.test.ts (replica frozen:
    // every read answers while writes fail at once); this run checks that reads answer again by 3 s
    // after the resync, and that none found a confirmed session missing.
    expect(reads.ok).toBeGreaterThan(0)
    expect(reads.failed).toBeLessThanOrEqual(Math.ceil((16 * WAIT_TIMEOUT + 2_000) / 2_000))
  }

  it('ioredis: loses no acknowledged write and resurrects no session', async () => {
    const store = new RedisStore({ client, waitForReplicas: { replicas: 1, timeout: WAIT_TIMEOUT } })
    await failoverWithWaitForReplicas('sentinel failover + waitForReplicas (ioredis)', store)
  })

  // The store batches itself on such a client: one pipeline per event-loop turn, WAITs included.
  it('ioredis with enableAutoPipelining: loses no acknowledged write and resurrects no session', async () => {
    const batching = await ioredisClient(true)
    try {
      const store = new RedisStore({ client: batching, waitForReplicas: { replicas: 1, timeout: WAIT_TIMEOUT } })
      await failoverWithWaitForReplicas('sentinel failover + waitForReplicas (ioredis, enableAutoPipelining)', store)
    } finally {
      batching.disconnect()
    }
  })

  it('node-redis createSentinel: loses no acknowledged write and resurrects no session', async () => {
    const sentinel = createSentinel({
      name: MASTER_NAME,
      sentinelRootNodes: topology.sentinels.map((each) => ({ host: '127.0.0.1', port: each.port })),
      nodeClientOptions: { disableOfflineQueue: true, socket: { connectTimeout: 1000 } },
    })
    sentinel.on('error', () => undefined)
    await sentinel.connect()
    try {
      const store = new RedisStore({ client: sentinel, waitForReplicas: { replicas: 1, timeout: WAIT_TIMEOUT } })
      await failoverWithWaitForReplicas('sentinel failover + waitForReplicas (node-redis createSentinel)', store)
    } finally {
      await sentinel.destroy()
    }
  })

  // The same failover back without waitForReplicas: what it can lose, counted for the failure
  // model (docs/failure-model.md). Losses are a race with the clients' switch, so they are
  // reported, not asserted; everything else still holds.
  it('without waitForReplicas: fails closed, losses counted', async () => {
    await topology.synced()
    const store = new RedisStore({ client })
    const { summary, findings } = await runWorkload(store, { fault: () => topology.failover(), settleMs: 2_500 })
    console.log(describeSummary('sentinel failover, no waitForReplicas (ioredis)', summary))
    expect(findings.badResponses).toEqual([])
    expect(findings.foreignData).toEqual([])
    expect(summary.resumed).toBeGreaterThan(10)
    expect(summary.windowMs).toBeLessThan(15_000)
  })
})
