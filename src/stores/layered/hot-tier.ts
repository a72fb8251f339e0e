import type { SessionStoreError } from '../../core/errors.js'
import type { SessionKey, SessionStore } from '../../core/store.js'
import { DEFAULT_STORE_TIMEOUT, runWithTimeout } from '../../core/timeout.js'

/** What a hot-store failure is reported with. */
export interface HotErrorContext {
  /** The store operation that failed, e.g. `'get'`, `'write'`, `'repair'`. */
  operation: string
}

/** Receives every hot-store failure the layered store absorbed by falling back to cold. */
export type HotErrorHandler = (error: SessionStoreError, context: HotErrorContext) => void

/** Settings of {@link HotTier}. */
export interface HotTierOptions {
  timeout: number
  onError: HotErrorHandler
  maxTombstones: number
  repairInterval: number
}

/** Tombstones one repair round retries at once. */
const REPAIR_BATCH = 100

/**
 * The hot store seen through the layer: every call bounded by the hot timeout, failures reported
 * and turned into `undefined`, and the sessions this process must not read from hot.
 *
 * A session is *buried* when a change reached cold but hot could not be told (delete, rename, a
 * write whose hot copy may now be stale). This process then reads it from cold only, and a repair
 * loop deletes its hot copy until hot confirms; only then is hot trusted for it again. If more
 * sessions are buried than the set can hold, hot is distrusted for every session until the longest
 * hot field TTL written so far has passed, so that every copy that could be stale has expired.
 */
export class HotTier {
  readonly store: SessionStore
  readonly #options: HotTierOptions
  readonly #buried = new Set<SessionKey>()
  readonly #background = new Set<Promise<unknown>>()
  #distrustUntil = 0
  #longestFieldTtl = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #repairing = false

  /**
   * @param store - the hot store
   * @param options - timeout, error handler, tombstone bound, repair interval
   */
  constructor(store: SessionStore, options: HotTierOptions) {
    this.store = store
    this.#options = options
  }

  /**
   * Run one hot operation under the hot timeout.
   *
   * @param operation - name for the report
   * @param work - the call
   * @returns its result, or `undefined` when it failed or timed out (reported through `onError`)
   */
  async call<T>(operation: string, work: (store: SessionStore) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.strict(operation, work)
    } catch (error) {
      try {
        this.#options.onError(error as SessionStoreError, { operation })
      } catch {
        // A throwing error handler must not turn an absorbed hot failure into a failed request.
      }
      return undefined
    }
  }

  /**
   * Run one hot operation under the hot timeout and let its failure propagate (hot-only writes,
   * which have no other tier to fall back to).
   *
   * @param operation - name for a timeout message
   * @param work - the call
   * @returns its result
   */
  strict<T>(operation: string, work: (store: SessionStore) => Promise<T>): Promise<T> {
    return runWithTimeout(`${this.store.name} (hot)`, operation, this.#options.timeout, () => work(this.store))
  }

  /**
   * Run the hot step of a change cold already made (a delete, an expire, a move of the hot copy), and
   * let its failure propagate. Bounded by the hot store's default deadline rather than the shorter
   * hot timeout: hot answered moments ago (the change checked that first), and waiting for a slow
   * step — moving a big session between Cluster nodes — is better than failing a change cold has
   * made, which for a move cannot be retried (the old id is gone).
   *
   * @param operation - name for a timeout message
   * @param work - the call
   * @returns its result
   */
  settle<T>(operation: string, work: (store: SessionStore) => Promise<T>): Promise<T> {
    const timeout = Math.max(this.#options.timeout, DEFAULT_STORE_TIMEOUT)
    return runWithTimeout(`${this.store.name} (hot)`, operation, timeout, () => work(this.store))
  }

  /**
   * Start a hot operation nobody waits for (warming, TTL mirroring); `close()` waits for it.
   *
   * @param operation - name for the report
   * @param work - the call
   */
  background(operation: string, work: (store: SessionStore) => Promise<unknown>): void {
    this.track(this.call(operation, work))
  }

  /**
   * Let `close()` wait for a background task of several calls (a warm from scratch).
   *
   * @param task - the running task; its failure is dropped (each hot call reports its own)
   */
  track(task: Promise<unknown>): void {
    const tracked: Promise<unknown> = task.catch(() => undefined).finally(() => this.#background.delete(tracked))
    this.#background.add(tracked)
  }

  /**
   * Hot confirmed that it holds no stale copy of the session (a confirmed delete or move).
   *
   * @param key - session key
   */
  confirm(key: SessionKey): void {
    this.#buried.delete(key)
  }

  /**
   * @param key - session key
   * @returns whether this process may read the session from hot and keep its hot copy up to date
   */
  trusted(key: SessionKey): boolean {
    return !this.#buried.has(key) && Date.now() >= this.#distrustUntil
  }

  /**
   * Stop trusting hot for a session until its hot copy is confirmed deleted.
   *
   * @param key - session key
   */
  bury(key: SessionKey): void {
    if (this.#buried.size >= this.#options.maxTombstones && !this.#buried.has(key)) {
      this.#distrustUntil = Math.max(this.#distrustUntil, Date.now() + this.#longestFieldTtl * 1000)
      return
    }
    this.#buried.add(key)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#repair(), this.#options.repairInterval)
      this.#timer.unref?.()
    }
  }

  /**
   * Delete a buried session's hot copy now (before a hot-only write needs hot for it).
   *
   * @param key - session key
   * @returns `true` when hot is trusted for the session afterwards
   */
  async unbury(key: SessionKey): Promise<boolean> {
    if (Date.now() < this.#distrustUntil) return false
    if (!this.#buried.has(key)) return true
    if ((await this.call('repair', (store) => store.delete(key))) === undefined) return false
    this.#buried.delete(key)
    return true
  }

  /**
   * Record a hot field TTL written, which bounds how long a stale hot copy can live.
   *
   * @param seconds - the TTL
   */
  noteFieldTtl(seconds: number): void {
    this.#longestFieldTtl = Math.max(this.#longestFieldTtl, seconds)
  }

  /** Stop the repair loop and wait for background hot calls. Never closes the hot store. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await Promise.allSettled([...this.#background])
  }

  async #repair(): Promise<void> {
    if (this.#repairing) return
    this.#repairing = true
    try {
      const batch = [...this.#buried].slice(0, REPAIR_BATCH)
      await Promise.all(
        batch.map(async (key) => {
          if ((await this.call('repair', (store) => store.delete(key))) !== undefined) this.#buried.delete(key)
        }),
      )
    } finally {
      this.#repairing = false
      if (this.#buried.size === 0) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
  }
}
