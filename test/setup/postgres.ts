import { randomBytes } from 'node:crypto'
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

/**
 * Vitest global setup: create a fresh database `ruts_test_<random>` for this run and drop it (and
 * only it) afterwards. When no server answers, CI fails; a developer machine gets a loud warning and
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
  const database = `ruts_test_${randomBytes(6).toString('hex')}`
  try {
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
