import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { expectAcknowledgedKept } from './guarantees.js'
import { describeSummary } from './history.js'
import { missingPostgresBinaries, type PrivatePostgres, startPrivatePostgres } from './postgres-server.js'
import { runWorkload } from './workload.js'

const missing = await missingPostgresBinaries()
if (missing !== undefined && process.env.CI === 'true') throw new Error(`fault tests cannot run on CI: ${missing}`)

describe.skipIf(missing !== undefined)(
  `Postgres restarted under load${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let server: PrivatePostgres
    let pool: pg.Pool
    beforeAll(async () => {
      server = await startPrivatePostgres()
      // docs/postgres.md's settings.
      pool = new pg.Pool({
        host: '127.0.0.1',
        port: server.port,
        user: 'postgres',
        database: 'postgres',
        max: 20,
        connectionTimeoutMillis: 2_000,
        statement_timeout: 5_000,
        query_timeout: 6_000,
        keepAlive: true,
      })
      // Idle clients see the restart as an error event; the pool drops them and connects anew.
      pool.on('error', () => undefined)
    })
    afterAll(async () => {
      await pool?.end()
      await server?.stop()
    })

    it('pg_ctl restart -m fast: fails closed while down, the pool recovers, nothing acknowledged is lost', async () => {
      const store = await PostgresStore.create({ pool, cleanupInterval: 0 })
      try {
        const { summary, findings } = await runWorkload(store, { fault: () => server.restart(), settleMs: 3_000 })
        console.log(describeSummary('postgres restart -m fast', summary))
        expectAcknowledgedKept({ summary, findings })
        // Postgres commits before it answers: a failed write seen applied is durable, never undone.
        expect(findings.rolledBack).toEqual([])
        expect(summary.windowMs).toBeLessThan(10_000)
      } finally {
        await store.close()
      }
    })
  },
)
