import { createHash, randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import pg from 'pg'
import type { TestProject } from 'vitest/node'

/** How the Postgres tests reach the database created for this run, or why they are skipped. */
export type PostgresTestServer =
  | { available: true; host: string; port: number; user: string; database: string }
  | { available: false; reason: string }

declare module 'vitest' {
  interface ProvidedContext {
    postgres: PostgresTestServer
  }
}

const host = process.env.RUTS_PG_HOST ?? '127.0.0.1'
const port = Number(process.env.RUTS_PG_PORT ?? 5432)
const user = process.env.RUTS_PG_USER ?? 'postgres'

/** Connect to a maintenance database (trust auth on loopback): `postgres`, else `test`. */
async function maintenanceClient(): Promise<pg.Client> {
  let lastError: unknown
  for (const database of ['postgres', 'test']) {
    const client = new pg.Client({ host, port, user, database, connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      return client
    } catch (error) {
      lastError = error
      await client.end().catch(() => {})
    }
  }
  throw lastError
}

const DATABASE_PREFIX = 'ruts_test_'

/** This machine, as 8 hex digits of its host name's hash. */
function host_(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8)
}

/**
 * Drop the databases earlier runs on this machine created and could not drop (interrupted): named
 * `ruts_test_<this host>_<pid>_…` for a pid no process has any more, with no one connected.
 */
async function dropLeftovers(admin: pg.Client): Promise<void> {
  const mine = new RegExp(`^${DATABASE_PREFIX}${host_()}_(\\d+)_[0-9a-f]{8}$`)
  const { rows } = await admin.query<{ datname: string; connections: number }>(
    `SELECT d.datname, (SELECT count(*) FROM pg_stat_activity AS a WHERE a.datname = d.datname)::int AS connections
       FROM pg_database AS d WHERE d.datname LIKE $1`,
    [`${DATABASE_PREFIX}%`],
  )
  for (const { datname, connections } of rows) {
    const pid = Number(mine.exec(datname)?.[1])
    if (!Number.isSafeInteger(pid) || connections > 0 || alive(pid)) continue
    await admin.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => undefined)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Vitest global setup: create a fresh database `ruts_test_<host>_<pid>_<random>` for this run and
 * drop it (and only it) afterwards. When no server answers, CI fails; a developer machine gets a loud warning and
 * the Postgres tests skip with the reason.
 *
 * @param project - the vitest project to provide the connection details to
 * @returns the teardown that drops the database
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  let admin: pg.Client
  try {
    admin = await maintenanceClient()
  } catch (error) {
    const reason = `no PostgreSQL at ${user}@${host}:${port} (${(error as Error).message})`
    if (process.env.CI === 'true') throw new Error(`CI requires PostgreSQL: ${reason}`)
    console.warn(`\n${'!'.repeat(78)}\n!! Postgres tests SKIPPED: ${reason}\n${'!'.repeat(78)}\n`)
    project.provide('postgres', { available: false, reason })
    return undefined
  }
  // The name says which host and process created it, so a later run can drop what an interrupted
  // one (Ctrl+C skips the teardown) left behind: only its own kind, only once that process is gone.
  const database = `${DATABASE_PREFIX}${host_()}_${process.pid}_${randomBytes(4).toString('hex')}`
  try {
    await dropLeftovers(admin)
    await admin.query(`CREATE DATABASE "${database}"`)
  } finally {
    await admin.end()
  }
  project.provide('postgres', { available: true, host, port, user, database })
  return async () => {
    const dropper = await maintenanceClient()
    try {
      // FORCE ends connections a test left open, so the drop cannot fail on them (PostgreSQL 13+).
      await dropper.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    } finally {
      await dropper.end()
    }
  }
}
