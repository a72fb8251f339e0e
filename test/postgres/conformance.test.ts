import type pg from 'pg'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { skipReason, TEST_TIMEOUT, timeZones, uniqueTable, zonedPool } from './helpers.js'

// The shared store contract, run unchanged on PostgresStore with the connection in two time zones:
// every expiry is decided with timestamptz and exact intervals, so the zone must not matter. The
// second zone also runs without prepared statements (\`prepare: false\`), the first with them.
for (const timeZone of timeZones) {
  let pool: pg.Pool | undefined
  describeStoreConformance({
    name: `PostgresStore (TimeZone=${timeZone}${timeZone === timeZones[0] ? '' : ', prepare: false'})`,
    skip: skipReason,
    // The subject's index is its rows: live ones, and expired ones until cleanup or its next bind.
    subjectIndexSize: async (_store, subject) => {
      const { rows } = await (pool as pg.Pool).query<{ n: number }>(
        'SELECT count(*)::int AS n FROM "public"."ruts_sessions" WHERE subject = $1',
        [subject],
      )
      return rows[0]?.n ?? 0
    },
    async create() {
      // The subject cases start 500 binds at once: queued for a connection longer than the 2 s default
      // on a loaded machine, which is the pool's limit, not the store's.
      pool = zonedPool(timeZone, { connectionTimeoutMillis: 10_000 })
      const prepare = timeZone === timeZones[0]
      return PostgresStore.create({ pool, cleanupInterval: 0, timeout: TEST_TIMEOUT, prepare })
    },
    // A table whose CHECK refuses every value: Postgres puts the failing row in the error's detail.
    async failing() {
      const table = uniqueTable()
      const store = await PostgresStore.create({ pool: zonedPool(timeZone), table, cleanupInterval: 0 })
      await zonedPool(timeZone).query(`ALTER TABLE "public"."${table}_fields" ADD CHECK (octet_length(value) < 0)`)
      return store
    },
  })
}
