import type { Pool } from 'pg'
import { runWithTimeout } from '../../core/timeout.js'
import type { AdvisoryLockKey, TableNames } from './identifiers.js'

/** What one {@link PostgresStore.cleanup} run did. */
export interface CleanupResult {
  /** `true` when another instance held the cleanup lock, so this run deleted nothing. */
  skipped: boolean
  /** Expired sessions deleted (their fields went with them). */
  sessions: number
  /** Expired field rows deleted on their own (fields that go with a deleted session are not counted). */
  fields: number
}

/**
 * One bounded batch, as one statement. `pg_try_advisory_xact_lock` elects the instance: a second
 * store cleaning at the same time gets `false` and deletes nothing, and the lock ends with the
 * statement's transaction, so a crashed cleaner can never keep it. `SKIP LOCKED` leaves rows that a
 * request is using right now for the next run instead of waiting on them.
 * Parameters: `$1, $2` the lock key, `$3` the batch size.
 */
export function cleanupStatement(n: TableNames): string {
  return `
    WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1::int4, $2::int4) AS got),
    s AS (
      DELETE FROM ${n.sessions} WHERE id IN (
        SELECT id FROM ${n.sessions}
        WHERE expires_at <= now() AND (SELECT got FROM lock)
        LIMIT $3::int FOR UPDATE SKIP LOCKED
      )
      RETURNING 1
    ),
    f AS (
      DELETE FROM ${n.fields} AS f USING (
        SELECT session_id, field FROM ${n.fields}
        WHERE expires_at <= now() AND (SELECT got FROM lock)
        LIMIT $3::int FOR UPDATE SKIP LOCKED
      ) AS expired
      WHERE f.session_id = expired.session_id AND f.field = expired.field
      RETURNING 1
    )
    SELECT (SELECT got FROM lock) AS got, (SELECT count(*) FROM s)::int AS sessions, (SELECT count(*) FROM f)::int AS fields`
}

/** Settings of a {@link CleanupTask}. */
export interface CleanupSettings {
  pool: Pool
  names: TableNames
  lock: AdvisoryLockKey
  batchSize: number
  /** Most batches in one run, so one run stays bounded however much has expired. */
  maxBatches: number
  timeout: number
}

/**
 * Deletes expired rows in bounded batches, by hand ({@link run}) or on a jittered, `unref`'d timer.
 * Runs never overlap: the next one is scheduled only when the previous one has finished.
 */
export class CleanupTask {
  readonly #settings: CleanupSettings
  readonly #sql: string
  #timer: ReturnType<typeof setTimeout> | undefined
  #running: Promise<unknown> | undefined
  #stopped = false

  /** @param settings - pool, tables, lock key, batch bounds and per-batch timeout */
  constructor(settings: CleanupSettings) {
    this.#settings = settings
    this.#sql = cleanupStatement(settings.names)
  }

  /**
   * Run batches until one comes back short, `maxBatches` ran, or another instance holds the lock.
   *
   * @returns the rows deleted, or `skipped` when another instance is cleaning
   */
  run(): Promise<CleanupResult> {
    return this.#run(() => true)
  }

  async #run(keepGoing: () => boolean): Promise<CleanupResult> {
    const { pool, lock, batchSize, maxBatches, timeout } = this.#settings
    const total: CleanupResult = { skipped: false, sessions: 0, fields: 0 }
    for (let batch = 0; batch < maxBatches && keepGoing(); batch++) {
      const { rows } = await runWithTimeout('postgres', 'cleanup', timeout, () =>
        pool.query<{ got: boolean; sessions: number; fields: number }>(this.#sql, [...lock, batchSize]),
      )
      const row = rows[0]
      if (row === undefined || !row.got) return { ...total, skipped: batch === 0 }
      total.sessions += row.sessions
      total.fields += row.fields
      if (row.sessions < batchSize && row.fields < batchSize) break
    }
    return total
  }

  /**
   * Start the timer: each run waits `interval` ± 25 % so that instances started together drift
   * apart instead of contending for the lock at the same moment.
   *
   * @param interval - mean milliseconds between runs
   * @param onError - receives every failed run
   */
  start(interval: number, onError: (error: unknown) => void): void {
    const schedule = (): void => {
      if (this.#stopped) return
      this.#timer = setTimeout(
        () => {
          // A timed run stops between batches once close() was called.
          this.#running = this.#run(() => !this.#stopped)
            .catch((error: unknown) => report(onError, error))
            .finally(() => {
              this.#running = undefined
              schedule()
            })
        },
        interval * (0.75 + Math.random() * 0.5),
      )
      // The timer must never keep the process alive on its own.
      this.#timer.unref?.()
    }
    schedule()
  }

  /** Stop the timer and wait for a run in progress, so the pool can be ended right after. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}

/** Hand a failure to the user's hook; a hook that throws must not kill the timer or the process. */
function report(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error)
  } catch (hookError) {
    console.error('ruts/postgres: cleanup failed and onError threw', error, hookError)
  }
}
