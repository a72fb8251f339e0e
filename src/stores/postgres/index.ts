/**
 * {@link PostgresStore}: sessions in PostgreSQL over a `pg` pool, one statement per operation.
 *
 * @module ruts/postgres
 */
import { createHash } from 'node:crypto'
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg'
import { SessionConfigError } from '../../core/errors.js'
import { checkIncrement } from '../../core/integers.js'
import type {
  BindOptions,
  BindResult,
  ExpireResult,
  FieldRead,
  FieldValue,
  IncrementOptions,
  IncrementResult,
  PlacementOptions,
  ReadOptions,
  RemoveResult,
  RenameResult,
  RevokeTarget,
  SessionKey,
  SessionRead,
  SessionStore,
  SubjectRead,
  SubjectSession,
  WriteOptions,
  WriteResult,
} from '../../core/store.js'
import { DEFAULT_STORE_TIMEOUT, runWithTimeout } from '../../core/timeout.js'
import { checkExpireSeconds, checkWriteTtls } from '../../core/ttl.js'
import { type Check, checkOptions, checks, optionError } from '../../core/validate.js'
import { type CleanupResult, CleanupTask } from './cleanup.js'
import { advisoryLockKeys, type TableNames, tableNames } from './identifiers.js'
import { assertSchemaVersion, migrate } from './migrations.js'
import { type GetAllRow, type GetRow, lifetimeStatements, type RemoveRow, readStatements } from './statements/sql.js'
import { type WriteRow, writeStatements } from './statements/writes.js'
import { PostgresSubjects } from './subjects.js'

export type { CleanupResult } from './cleanup.js'

/** Options of {@link PostgresStore.create}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool you built; the store borrows it and never ends or reconfigures it. */
  pool: Pool
  /** Schema holding the tables; created when missing. @default 'public' */
  schema?: string
  /** Sessions table; the store also owns `<table>_fields` and `<table>_schema_version`. @default 'ruts_sessions' */
  table?: string
  /** Apply pending migrations on start; with `false`, start fails unless the schema is current. @default true */
  migrate?: boolean
  /** Mean milliseconds between cleanup runs (± 25 % jitter); `0` turns the timer off. @default 300000 */
  cleanupInterval?: number
  /** Rows deleted per cleanup statement, so a run never holds long locks. @default 1000 */
  cleanupBatchSize?: number
  /** Per-operation deadline in milliseconds; a slower call fails with `SessionStoreError`. @default 2000 */
  timeout?: number
  /** Receives failures of the background cleanup. @default logs with `console.error` */
  onError?: (error: unknown) => void
  /**
   * Send each statement as a named prepared statement, so every pool connection parses and plans it
   * once instead of on every call. Behind a pooler that cannot keep prepared statements (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`) the store falls back to
   * unnamed statements after the first refusal; `false` starts there. @default true
   */
  prepare?: boolean
}

const POSTGRES_OPTIONS = {
  pool: checks.required(checks.object),
  schema: checks.string,
  table: checks.string,
  migrate: checks.boolean,
  cleanupInterval: checks.milliseconds({ zero: true }),
  cleanupBatchSize: checks.positiveInteger,
  timeout: checks.milliseconds(),
  onError: checks.function,
  prepare: checks.boolean,
} satisfies Record<keyof PostgresStoreOptions, Check>

/** Deadline for migrations on start: they may wait on another process's migration lock. */
const MIGRATION_TIMEOUT = 30_000
/** Most batches one cleanup run deletes, so a run stays bounded after a long outage. */
const MAX_CLEANUP_BATCHES = 100
/** SQLSTATE unique_violation: a key became live concurrently with a create or rename. */
const UNIQUE_VIOLATION = '23505'
/** SQLSTATE foreign_key_violation: a field row's session went while the statement ran. */
const FOREIGN_KEY_VIOLATION = '23503'
/** What a write statement answers when a unique or a foreign-key violation stopped it. */
const COLLISION_ROW: WriteRow = { status: 'collision', ttl: null, touched: false }
const MISSING_ROW: WriteRow = { status: 'missing', ttl: null, touched: false }
/** In place of a statement that got its chance only after the store's deadline: nothing was sent. */
const notSent = () => new Error('not sent: the store had given up on this statement')

/** pg's answer to one statement: its error, or its result. */
type Answered<Row extends object> = (failure: Error | null | undefined, result: QueryResult<Row> | undefined) => void

/** SQLSTATE invalid_sql_statement_name: the connection does not hold the named statement. */
const PREPARED_STATEMENT_MISSING = '26000'
/** SQLSTATE duplicate_prepared_statement: the connection holds the name already (pg did not know). */
const PREPARED_STATEMENT_EXISTS = '42P05'

/**
 * A session store on PostgreSQL: one row per session and one row per field, every operation a
 * single SQL statement (one round trip, one atomic step), every expiry decided by the database
 * clock. Expired rows are deleted in bounded batches by a jittered background task that one
 * instance runs at a time.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { SessionLayer } from 'ruts'
 * import { PostgresStore } from 'ruts/postgres'
 *
 * const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 2000, statement_timeout: 5000 })
 * const store = await PostgresStore.create({ pool, schema: 'auth', table: 'sessions' })
 * const layer = new SessionLayer({ store })
 * // on shutdown: await store.close(); await pool.end()
 * ```
 */
export class PostgresStore implements SessionStore {
  readonly name = 'postgres'
  /** Enforces `maxFields` in the write's own atomic step. */
  readonly limits = ['maxFields'] as const
  readonly #pool: Pool
  readonly #timeout: number
  readonly #cleanup: CleanupTask
  readonly #read: ReturnType<typeof readStatements>
  readonly #lifetime: ReturnType<typeof lifetimeStatements>
  readonly #write: ReturnType<typeof writeStatements>
  readonly #subjects: PostgresSubjects
  /** Named statements per SQL text while prepared statements are on; `undefined` once off. */
  #prepared: ((sql: string, values: unknown[]) => QueryConfig) | undefined

  private constructor(pool: Pool, names: TableNames, timeout: number, cleanup: CleanupTask, prepare: boolean) {
    // `new PostgresStore({ pool })` from JavaScript (TypeScript refuses it): the store needs its tables.
    if (names === undefined) {
      throw new SessionConfigError('PostgresStore is created with `await PostgresStore.create({ pool })`, not `new`')
    }
    this.#pool = pool
    this.#prepared = prepare ? preparedStatements() : undefined
    this.#timeout = timeout
    this.#cleanup = cleanup
    this.#read = readStatements(names)
    this.#lifetime = lifetimeStatements(names)
    this.#write = writeStatements(names)
    this.#subjects = new PostgresSubjects(names, (operation, sql, params, collision) =>
      this.#query(operation, sql, params, collision),
    )
  }

  /**
   * Validate the options, bring the schema up to date (unless `migrate: false`) and start the
   * cleanup timer.
   *
   * @param options - the pool, names, migration, cleanup and timeout settings
   * @returns a ready store
   * @throws SessionConfigError for invalid options or, with `migrate: false`, a schema that is not current
   * @throws SessionStoreError when the database cannot be reached
   */
  static async create(options: PostgresStoreOptions): Promise<PostgresStore> {
    checkOptions('PostgresStore', options, POSTGRES_OPTIONS)
    const timeout = options.timeout ?? DEFAULT_STORE_TIMEOUT
    const batchSize = options.cleanupBatchSize ?? 1000
    const interval = options.cleanupInterval ?? 300_000
    const { pool } = options
    if (typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
      throw optionError('PostgresStore', 'pool', 'must be a pg Pool')
    }
    const names = tableNames(options.schema ?? 'public', options.table ?? 'ruts_sessions')
    const locks = advisoryLockKeys(names)
    const ready =
      options.migrate === false
        ? () => assertSchemaVersion(options.pool, names)
        : () => migrate(options.pool, names, locks.migration)
    await keepConfigErrors(() =>
      runWithTimeout<unknown>('postgres', 'migrate', Math.max(timeout, MIGRATION_TIMEOUT), ready),
    )
    const cleanup = new CleanupTask({
      pool: options.pool,
      names,
      lock: locks.cleanup,
      batchSize,
      maxBatches: MAX_CLEANUP_BATCHES,
      timeout,
    })
    if (interval > 0)
      cleanup.start(interval, options.onError ?? ((error) => console.error('ruts/postgres: cleanup failed', error)))
    return new PostgresStore(options.pool, names, timeout, cleanup, options.prepare ?? true)
  }

  async get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    const touch = options?.touch
    const rows = await this.#query<GetRow>(
      'get',
      touch === undefined ? this.#read.get : this.#read.getTouch,
      touch === undefined ? [key, field] : [key, field, touch.ttl, touch.threshold],
    )
    const row = rows[0]
    if (row === undefined) return { live: false }
    if (row.value === null) return { live: true, ttl: row.ttl, touched: row.touched, value: undefined }
    return { live: true, ttl: row.ttl, touched: row.touched, value: row.value, fieldTtl: row.field_ttl ?? row.ttl }
  }

  async getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    const touch = options?.touch
    const rows = await this.#query<GetAllRow>(
      'getAll',
      touch === undefined ? this.#read.getAll : this.#read.getAllTouch,
      touch === undefined ? [key] : [key, touch.ttl, touch.threshold],
    )
    const first = rows[0]
    if (first === undefined) return { live: false }
    const fields = new Map<string, FieldValue>()
    for (const row of rows) if (row.field !== null && row.value !== null) fields.set(row.field, row.value)
    return { live: true, ttl: first.ttl, touched: first.touched, fields }
  }

  async write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    checkWriteTtls(options)
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    const insertOnly = options.mode === 'insert'
    const statements = {
      existing: insertOnly ? this.#write.insert : this.#write.update,
      create: this.#write.create,
      rename: insertOnly ? this.#write.renameInsert : this.#write.renameUpdate,
    }
    const row = await this.#placed('write', statements, key, field, bytes, options)
    if (row.status === 'written' || row.status === 'exists' || row.status === 'full') {
      return { status: row.status, ...live(row) }
    }
    return { status: row.status === 'missing' ? 'missing' : 'collision' }
  }

  async increment(key: SessionKey, field: string, options: IncrementOptions): Promise<IncrementResult> {
    checkIncrement(options)
    const statements = this.#write.increment[options.format]
    const row = await this.#placed('increment', statements, key, field, options.by, options)
    if (row.status === 'written' && typeof row.counter === 'number') {
      return { status: 'written', ...live(row), value: row.counter }
    }
    if (row.status === 'invalid' || row.status === 'full') return { status: row.status, ...live(row) }
    return { status: row.status === 'missing' ? 'missing' : 'collision' }
  }

  async take(key: SessionKey, field: string): Promise<FieldRead> {
    const row = (await this.#query<GetRow>('take', this.#lifetime.take, [key, field]))[0]
    if (row === undefined) return { live: false }
    return { live: true, ttl: row.ttl, touched: false, value: row.value ?? undefined }
  }

  async remove(key: SessionKey, field: string): Promise<RemoveResult> {
    const row = (await this.#query<RemoveRow>('remove', this.#lifetime.remove, [key, field]))[0]
    if (row === undefined) return { live: false }
    return { live: true, ttl: row.ttl, touched: false, removed: row.removed }
  }

  async delete(key: SessionKey): Promise<boolean> {
    const rows = await this.#query<{ live: boolean }>('delete', this.#lifetime.delete, [key])
    return rows[0]?.live === true
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    checkExpireSeconds(seconds)
    if (seconds <= 0) {
      await this.#query('expire', this.#lifetime.delete, [key])
      return { live: false }
    }
    const row = (await this.#query<{ ttl: number }>('expire', this.#lifetime.expire, [key, seconds]))[0]
    return row === undefined ? { live: false } : { live: true, ttl: row.ttl, touched: true }
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const row = await this.#writeQuery('rename', this.#write.rename, [from, to])
    if (row.status === 'renamed') return { status: 'renamed', ...live(row) }
    return { status: row.status === 'missing' ? 'missing' : 'collision' }
  }

  /**
   * Bind the session to a subject in one statement (a function: the subject's binds serialise, the
   * move, the binding and the `maxSessions` trim are one atomic step).
   */
  bind(key: SessionKey, options: BindOptions): Promise<BindResult> {
    return this.#subjects.bind(key, options)
  }

  subjectOf(key: SessionKey): Promise<SubjectRead> {
    return this.#subjects.subjectOf(key)
  }

  /** One `SELECT` on the subject's index; expired rows are skipped here and deleted by cleanup. */
  listSubject(subject: string): Promise<SubjectSession[]> {
    return this.#subjects.listSubject(subject)
  }

  /** One `DELETE … RETURNING key`: the fields go by cascade, writes in flight find the row gone. */
  revokeSubject(subject: string, target: RevokeTarget): Promise<SessionKey[]> {
    return this.#subjects.revokeSubject(subject, target)
  }

  /**
   * Delete expired sessions and fields now, in bounded batches (the timer calls this too).
   *
   * @returns how many rows went, or `skipped: true` when another instance holds the cleanup lock
   * @throws SessionStoreError when the database fails or a batch exceeds the timeout
   */
  cleanup(): Promise<CleanupResult> {
    return this.#cleanup.run()
  }

  /** Stop the cleanup timer and wait for a run in progress. The pool is left open: it is yours. */
  async close(): Promise<void> {
    await this.#cleanup.stop()
  }

  /**
   * One statement; with `collision`, a unique violation (a key that became live meanwhile) answers it,
   * and with `missing`, a foreign-key violation (the session row went meanwhile).
   */
  async #query<Row extends object>(
    operation: string,
    sql: string,
    params: unknown[],
    collision?: Row,
    missing?: Row,
  ): Promise<Row[]> {
    return runWithTimeout(this.name, operation, this.#timeout, async (expired) => {
      try {
        return await this.#send<Row>(sql, params, expired)
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (collision !== undefined && code === UNIQUE_VIOLATION) return [collision]
        if (missing !== undefined && code === FOREIGN_KEY_VIOLATION) return [missing]
        throw error
      }
    })
  }

  /**
   * Send one statement on a connection of the pool, unless the store's deadline passed while it
   * waited for one (an exhausted pool without `connectionTimeoutMillis` waits as long as it takes):
   * the caller was told the call failed, so it must not run now. Otherwise as `pool.query`: an
   * `'error'` listener while the connection is out, and a connection whose statement failed is
   * destroyed rather than pooled, except after the constraint violations the store expects (a
   * collision, a session gone), which leave it sound.
   */
  #send<Row extends object>(sql: string, params: unknown[], expired: () => boolean): Promise<Row[]> {
    // Callbacks, not promises, between the pool and the connection: as cheap as `pool.query`.
    return new Promise<Row[]>((resolve, reject) => {
      this.#pool.connect((error, connection, release) => {
        if (error !== undefined && error !== null) return reject(error)
        if (connection === undefined) return reject(new Error('the pool gave no connection'))
        if (expired()) {
          release()
          return reject(notSent())
        }
        let broken: Error | undefined
        const failed = (failure: Error) => {
          broken = failure
        }
        const finish = (failure: Error | undefined, rows: Row[] | undefined) => {
          connection.removeListener('error', failed)
          const code = (failure as { code?: unknown } | undefined)?.code
          if (failure !== undefined && code !== UNIQUE_VIOLATION && code !== FOREIGN_KEY_VIOLATION) broken ??= failure
          release(broken)
          if (failure === undefined) resolve(rows ?? [])
          else reject(failure)
        }
        connection.on('error', failed)
        this.#statement<Row>(connection, sql, params, expired, finish)
      })
    })
  }

  /**
   * One statement, named while prepared statements are on. A pooler that does not keep them
   * (PgBouncer in transaction mode before 1.21 hands each transaction a different server connection;
   * `DISCARD ALL` drops them) makes PostgreSQL answer "does not exist" or "already exists" before
   * anything runs. The statement is then sent again unnamed, and the store stays unnamed from then on.
   */
  #statement<Row extends object>(
    connection: PoolClient,
    sql: string,
    params: unknown[],
    expired: () => boolean,
    done: (failure: Error | undefined, rows: Row[] | undefined) => void,
  ): void {
    const unnamed: Answered<Row> = (failure, result) => done(failure ?? undefined, result?.rows)
    const prepared = this.#prepared
    try {
      if (prepared === undefined) return void connection.query<Row>(sql, params, unnamed)
      connection.query<Row>(prepared(sql, params), (failure, result) => {
        const code = (failure as { code?: unknown } | null)?.code
        if (code !== PREPARED_STATEMENT_MISSING && code !== PREPARED_STATEMENT_EXISTS) return unnamed(failure, result)
        this.#prepared = undefined
        // A pooler may have held the named attempt past the deadline: then nothing is sent again.
        if (expired()) return done(notSent(), undefined)
        try {
          connection.query<Row>(sql, params, unnamed)
        } catch (error) {
          done(error as Error, undefined)
        }
      })
    } catch (error) {
      // pg throws for a query it cannot even queue (a client that was released or ended).
      done(error as Error, undefined)
    }
  }

  /** A write-shaped statement (`write`, `increment`) in the shape its placement asks for. */
  #placed(
    operation: string,
    statements: { existing: string; create: string; rename: string },
    key: SessionKey,
    field: string,
    value: unknown,
    options: PlacementOptions,
  ): Promise<WriteRow> {
    const params: unknown[] = [key, field, value, options.fieldTtl, options.sessionTtl]
    let sql = statements.existing
    if (options.session === 'create') {
      sql = statements.create
      params.push(options.maxLifetime ?? null)
    } else if (options.renameFrom !== undefined) {
      sql = statements.rename
      params.push(options.renameFrom, options.maxFields ?? null)
    } else {
      params.push(options.maxFields ?? null)
    }
    return this.#writeQuery(operation, sql, params)
  }

  /**
   * A write or rename; a key that became live concurrently surfaces as a unique violation. A session
   * deleted concurrently (a revocation, a delete) surfaces as a foreign-key violation of the field
   * row: the write statement holds the session row `FOR KEY SHARE`, yet a racing revocation's DELETE
   * was seen to get through before the field INSERT's foreign-key check (test/postgres/subject-races,
   * about one run in six). The statement then fails whole, nothing of it is kept, and the session is
   * gone: exactly `missing`.
   */
  async #writeQuery(operation: string, sql: string, params: unknown[]): Promise<WriteRow> {
    const rows = await this.#query<WriteRow>(operation, sql, params, COLLISION_ROW, MISSING_ROW)
    const row = rows[0]
    if (row === undefined) throw new Error('postgres: write statement returned no row')
    return row
  }
}

/**
 * Named statements for SQL texts. pg prepares a name once per connection (Parse), then sends only
 * Bind and Execute, and PostgreSQL keeps the plan. The name is a hash of the text, which holds the
 * table names, so two stores on different tables, or two versions of this store, never share one.
 */
function preparedStatements(): (sql: string, values: unknown[]) => QueryConfig {
  const names = new Map<string, string>()
  return (sql, values) => {
    let name = names.get(sql)
    if (name === undefined) {
      name = `ruts_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`
      names.set(sql, name)
    }
    return { name, text: sql, values }
  }
}

function live(row: WriteRow): { live: true; ttl: number; touched: boolean } {
  return { live: true, ttl: row.ttl ?? 0, touched: row.touched }
}

/** runWithTimeout wraps every failure as a store error; a configuration error must stay one. */
async function keepConfigErrors(work: () => Promise<unknown>): Promise<void> {
  let configError: SessionConfigError | undefined
  await work().catch((error: unknown) => {
    const cause = (error as { cause?: unknown }).cause
    if (cause instanceof SessionConfigError) configError = cause
    else throw error
  })
  if (configError !== undefined) throw configError
}
