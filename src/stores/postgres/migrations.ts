import type { Pool, PoolClient } from 'pg'
import { SessionConfigError } from '../../core/errors.js'
import { type AdvisoryLockKey, quoteIdentifier, type TableNames } from './identifiers.js'
import { integerFunctions } from './statements/integers.js'
import { bindLockOrderMigration, subjectMigration } from './statements/subjects.js'

/** One schema change, applied once and recorded in the version table. */
interface Migration {
  version: number
  description: string
  statements: (names: TableNames) => string[]
}

/**
 * Every schema change, in order. Never edit an applied migration: append a new one.
 *
 * Sessions get a surrogate `id` so that renaming (regenerate) changes one row's `key` and the
 * fields follow without being rewritten, and so that recreating a key over an expired session
 * yields a new `id`: the cascade that removes the old session's fields can then never touch the
 * new session's fields, even inside the same statement.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sessions and fields tables',
    statements: (n) => [
      `CREATE TABLE ${n.sessions} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        deadline timestamptz
      )`,
      `CREATE INDEX ON ${n.sessions} (expires_at)`,
      `CREATE TABLE ${n.fields} (
        session_id bigint NOT NULL REFERENCES ${n.sessions} (id) ON DELETE CASCADE,
        field text NOT NULL,
        value bytea NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (session_id, field)
      )`,
      `CREATE INDEX ON ${n.fields} (expires_at)`,
    ],
  },
  {
    version: 2,
    description: 'integer functions for increment',
    statements: integerFunctions,
  },
  {
    version: 3,
    description: 'subjects: subject, meta, created_at, last_active_at, subject index, bind function',
    statements: subjectMigration,
  },
  {
    // Version 3 now creates the same function (`CREATE OR REPLACE`); a store at 3 gets it here.
    version: 4,
    description: 'bind takes the subject lock before pruning expired rows (no deadlock between binds)',
    statements: bindLockOrderMigration,
  },
]

/** The schema version this code needs. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Bring the store's tables up to {@link SCHEMA_VERSION} in one transaction. An advisory lock taken
 * first makes processes that start together apply each migration once: the others wait, then find
 * nothing left to do. DDL is transactional in PostgreSQL, so a failure leaves no half-made schema.
 *
 * @param pool - the user's pool; one client is borrowed and released
 * @param names - the quoted table names
 * @param lock - the migration advisory lock key
 * @param target - the version to stop at (tests build an older schema with it) @default SCHEMA_VERSION
 * @returns the versions applied by this call (empty when already current)
 */
export async function migrate(
  pool: Pool,
  names: TableNames,
  lock: AdvisoryLockKey,
  target = SCHEMA_VERSION,
): Promise<number[]> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...lock])
    await ensureSchema(client, names)
    // `CREATE TABLE IF NOT EXISTS` needs CREATE on the schema even when the table exists (PostgreSQL
    // checks the privilege first): a runtime role without it still starts on a current schema.
    const { rows: tables } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
      names.versions,
    ])
    if (tables[0]?.present !== true) {
      await client.query(
        `CREATE TABLE ${names.versions} (
          version integer PRIMARY KEY,
          description text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`,
      )
    }
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${names.versions}`)
    const done = new Set(rows.map((row) => row.version))
    if (done.size > 0 && Math.max(...done) > SCHEMA_VERSION) {
      throw new SessionConfigError(
        `postgres: schema is at a newer version than this ruts understands (${SCHEMA_VERSION})`,
      )
    }
    const applied: number[] = []
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version) || migration.version > target) continue
      for (const statement of migration.statements(names)) await client.query(statement)
      await client.query(`INSERT INTO ${names.versions} (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ])
      applied.push(migration.version)
    }
    await client.query('COMMIT')
    return applied
  } catch (error) {
    // The migration error is the one worth reporting; a failed ROLLBACK only means this
    // connection is unusable, so it is destroyed instead of going back to the pool.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
    })
    throw error
  } finally {
    client.release(broken)
  }
}

/**
 * `CREATE SCHEMA IF NOT EXISTS` still needs the CREATE privilege on the database, so only issue it
 * when the schema is really missing: a role that may only use an existing schema can still start.
 */
async function ensureSchema(client: PoolClient, names: TableNames): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.raw.schema])
  if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(names.raw.schema)}`)
}

/**
 * With `migrate: false`, check that someone else has already brought the schema to this version.
 *
 * @param pool - the user's pool
 * @param names - the quoted table names
 * @throws SessionConfigError when the tables are missing or at another version
 */
export async function assertSchemaVersion(pool: Pool, names: TableNames): Promise<void> {
  const table = `${names.raw.table}_schema_version`
  const { rows } = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${quoteIdentifier(names.raw.schema)}.${quoteIdentifier(table)}`,
  ])
  if (rows[0]?.present !== true) throw new SessionConfigError('postgres: tables missing; run with migrate: true once')
  const current = await pool.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${names.versions}`)
  const version = current.rows[0]?.version ?? 0
  if (version !== SCHEMA_VERSION) {
    throw new SessionConfigError(`postgres: schema is at version ${version}, this ruts needs ${SCHEMA_VERSION}`)
  }
}
