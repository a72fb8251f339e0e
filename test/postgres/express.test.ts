import { PostgresStore } from '../../src/stores/postgres/index.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { expressHarness } from '../helpers/express-harness.js'
import { skipReason, TEST_TIMEOUT, timeZones, uniqueTable, zonedPool } from './helpers.js'

// The HTTP-level behaviour suite through Express 5 with PostgresStore underneath, with the
// database sessions in two time zones. Pools are ended by helpers.ts after the file.
for (const timeZone of timeZones) {
  describeAdapterBehaviour({
    name: `Express 5 on PostgresStore (TimeZone=${timeZone})`,
    start: expressHarness(5),
    skip: skipReason,
    store: () =>
      PostgresStore.create({
        pool: zonedPool(timeZone),
        table: uniqueTable(),
        cleanupInterval: 0,
        timeout: TEST_TIMEOUT,
      }),
  })
}
