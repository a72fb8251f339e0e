import type pg from 'pg'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { skipReason, TEST_TIMEOUT, timeZones, uniqueTable, zonedPool } from './helpers.js'

// The shared store contract, run unchanged on PostgresStore with the connection in two time zones:
// every expiry is decided with timestamptz and exact intervals, so the zone must not matter.
for (const timeZone of timeZones) {
  let pool: pg.Pool | undefined
  describeStoreConformance({
    name: `PostgresStore (TimeZone=${timeZone})`,
    skip: skipReason,
    skipCapabilities: { subjects: 'issue 15: PostgresStore gets subjects in h15c' },
    async create() {
      pool = zonedPool(timeZone)
      return PostgresStore.create({ pool, cleanupInterval: 0, timeout: TEST_TIMEOUT })
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
