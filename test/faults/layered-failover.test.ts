import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { MASTER_NAME, type SentinelTopology, startSentinelTopology } from '../redis/sentinel-topology.js'
import { expectAcknowledgedKept } from './guarantees.js'
import { describeSummary } from './history.js'
import { type PrivatePostgres, startPrivatePostgres } from './postgres-server.js'
import { describeWithRedis } from './services.js'
import { runWorkload } from './workload.js'

// The hot tier fails over; cold (Postgres) is the source of truth and answers throughout. Hot
// writes carry waitForReplicas: a hot write the promoted replica would not have fails instead, so
// the layer tombstones that session and reads it from cold, never from a stale hot copy.
describeWithRedis('LayeredStore (hot Redis via Sentinel, cold Postgres) while hot fails over', () => {
  let topology: SentinelTopology
  let postgres: PrivatePostgres
  let client: Redis
  let pool: pg.Pool
  beforeAll(async () => {
    ;[topology, postgres] = await Promise.all([startSentinelTopology(), startPrivatePostgres()])
    client = new Redis({
      sentinels: topology.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      name: MASTER_NAME,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A command the store already reported failed must never land later, over a newer write.
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
    })
    client.on('error', () => undefined)
    await client.connect()
    pool = new pg.Pool({ host: '127.0.0.1', port: postgres.port, user: 'postgres', database: 'postgres', max: 20 })
    pool.on('error', () => undefined)
  })
  afterAll(async () => {
    client?.disconnect()
    await pool?.end()
    await Promise.all([topology?.stop(), postgres?.stop()])
  })

  // SPEC §10: a delete or regenerate resolves only once hot confirmed it, so while hot is unreachable
  // those two fail closed (503, having changed nothing); every other request is served from cold.
  it('serves every read and write from cold while hot fails over: nothing lost or resurrected', async () => {
    let hotErrors = 0
    const cold = await PostgresStore.create({ pool, cleanupInterval: 0, timeout: 5000 })
    const hot = new RedisStore({ client, waitForReplicas: { replicas: 1, timeout: 150 } })
    const store = new LayeredStore({ hot, cold, onError: () => void hotErrors++ })
    try {
      const { summary, findings, history } = await runWorkload(store, {
        fault: () => topology.failover(),
        settleMs: 2_000,
      })
      console.log(describeSummary(`layered, hot sentinel failover (${hotErrors} hot errors absorbed)`, summary))
      const refused = history.filter((operation) => operation.status === 503)
      expect(refused.filter((operation) => operation.kind !== 'delete' && operation.kind !== 'regenerate')).toEqual([])
      expectAcknowledgedKept({ summary, findings })
      expect(findings.rolledBack).toEqual([])
    } finally {
      await store.close()
    }
  })
})
