import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, inject } from 'vitest'
import { PostgresStore, type PostgresStoreOptions } from '../../src/stores/postgres/index.js'

/** The database of this run, or why the Postgres tests are skipped. */
export const postgres = inject('postgres')

/** Stated skip reason, `undefined` when the server is there. */
export const skipReason = postgres.available ? undefined : `Postgres tests skipped: ${postgres.reason}`

/**
 * Per-operation timeout for the suites that test behaviour, not timeouts: on a CI machine running
 * many suites at once, 20 concurrent writes opening 20 fresh connections can exceed the 2 s default.
 * failure.test.ts checks the timeout itself with short explicit values.
 */
export const TEST_TIMEOUT = 10_000

/** Two session time zones far apart (Chatham is UTC+12:45/+13:45): no expiry may depend on them. */
export const timeZones = ['UTC', 'Pacific/Chatham'] as const

const pools: pg.Pool[] = []
afterAll(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

/**
 * A pool on this run's database, ended after the test file. Settings follow docs/postgres.md.
 *
 * @param config - extra pool settings (e.g. `options: '-c TimeZone=…'`)
 * @returns the pool
 */
export function testPool(config: pg.PoolConfig = {}): pg.Pool {
  if (!postgres.available) throw new Error(postgres.reason)
  const { host, port, user, database } = postgres
  const pool = new pg.Pool({ host, port, user, database, max: 30, connectionTimeoutMillis: 2000, ...config })
  pools.push(pool)
  return pool
}

/** A pool whose sessions run in `timeZone` (and `config`). */
export function zonedPool(timeZone: string, config: pg.PoolConfig = {}): pg.Pool {
  return testPool({ options: `-c TimeZone=${timeZone}`, ...config })
}

/** A fresh, unique table name so tests that count rows never see each other's data. */
export function uniqueTable(prefix = 'sessions'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/**
 * A store on its own tables, cleanup timer off and {@link TEST_TIMEOUT} unless asked otherwise.
 *
 * @param options - overrides
 * @returns the store
 */
export function testStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  return PostgresStore.create({
    pool: options.pool ?? testPool(),
    table: uniqueTable(),
    cleanupInterval: 0,
    ...options,
  })
}

/**
 * Count the statements sent on connections `pool` hands out from now on: each `query` call on a
 * connection is one statement in one round trip.
 *
 * @param pool - the pool to watch
 * @returns the count so far
 */
export function countStatements(pool: pg.Pool): () => number {
  let statements = 0
  const counted = new WeakSet<pg.PoolClient>()
  pool.on('acquire', (connection) => {
    if (counted.has(connection)) return
    counted.add(connection)
    const query = connection.query.bind(connection)
    connection.query = ((...args: Parameters<typeof query>) => {
      statements++
      return query(...args)
    }) as typeof connection.query
  })
  return () => statements
}
