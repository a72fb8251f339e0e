import { SessionConfigError } from '../core/errors.js'
import type {
  ExpireResult,
  FieldRead,
  FieldValue,
  ReadOptions,
  RemoveResult,
  RenameResult,
  SessionKey,
  SessionRead,
  SessionStore,
  WriteOptions,
  WriteResult,
} from '../core/store.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most sessions kept; the least recently used is evicted beyond it. @default 10000 */
  maxSessions?: number
  /** Milliseconds between sweeps of expired sessions (an `unref`'d timer). @default 60000 */
  sweepInterval?: number
}

interface StoredField {
  value: FieldValue
  expiresAt: number
}

interface Entry {
  fields: Map<string, StoredField>
  expiresAt: number
  /** Absolute cap from `maxLifetime`; `Infinity` when none. */
  deadline: number
}

/**
 * The embedded default store: a bounded in-process map, least-recently-used eviction, expired
 * entries swept by an `unref`'d timer. Single process only: use Redis or Postgres when you run more
 * than one.
 *
 * @example
 * ```ts
 * const layer = new SessionLayer({ store: new MemoryStore({ maxSessions: 50_000 }) })
 * ```
 */
export class MemoryStore implements SessionStore {
  readonly name = 'memory'
  // A Map iterates in insertion order; re-inserting on access makes the first entry the least
  // recently used one, so eviction is O(1).
  readonly #sessions = new Map<SessionKey, Entry>()
  readonly #maxSessions: number
  #timer: ReturnType<typeof setInterval> | undefined

  /**
   * @param options - capacity and sweep interval
   * @throws SessionConfigError for a non-positive capacity or interval
   */
  constructor(options: MemoryStoreOptions = {}) {
    const maxSessions = options.maxSessions ?? 10_000
    const sweepInterval = options.sweepInterval ?? 60_000
    if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) throw new SessionConfigError('maxSessions must be ≥ 1')
    if (!Number.isFinite(sweepInterval) || sweepInterval < 1) throw new SessionConfigError('sweepInterval must be > 0')
    this.#maxSessions = maxSessions
    this.#timer = setInterval(() => this.sweep(), sweepInterval)
    this.#timer.unref?.()
  }

  /** Number of sessions held, live or not yet swept. */
  get size(): number {
    return this.#sessions.size
  }

  async get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    const touched = touch(entry, now, options)
    return { live: true, ttl: entry.expiresAt - now, touched, value: liveField(entry, field, now)?.value }
  }

  async getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    const touched = touch(entry, now, options)
    const fields = new Map<string, FieldValue>()
    for (const [field, stored] of entry.fields) {
      if (stored.expiresAt > now) fields.set(field, stored.value)
      else entry.fields.delete(field)
    }
    return { live: true, ttl: entry.expiresAt - now, touched, fields }
  }

  async write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    const now = Date.now()
    let entry: Entry | undefined
    if (options.session === 'create') {
      if (this.#live(key, now) !== undefined) return { status: 'collision' }
      const deadline = options.maxLifetime === undefined ? Number.POSITIVE_INFINITY : now + options.maxLifetime * 1000
      entry = { fields: new Map(), expiresAt: Math.min(now + options.sessionTtl * 1000, deadline), deadline }
      this.#insert(key, entry)
    } else if (options.renameFrom !== undefined) {
      entry = this.#live(options.renameFrom, now)
      if (entry === undefined) return { status: 'missing' }
      if (this.#live(key, now) !== undefined) return { status: 'collision' }
      this.#sessions.delete(options.renameFrom)
      this.#insert(key, entry)
    } else {
      entry = this.#live(key, now)
      if (entry === undefined) return { status: 'missing' }
    }
    if (options.mode === 'insert' && liveField(entry, field, now) !== undefined) {
      return { status: 'exists', live: true, ttl: entry.expiresAt - now, touched: false }
    }
    // Own a compact copy: an encoder may hand out views into a larger shared buffer.
    entry.fields.set(field, { value: value.slice(), expiresAt: now + options.fieldTtl * 1000 })
    const touched = options.session === 'create' || extend(entry, now + options.sessionTtl * 1000)
    return { status: 'written', live: true, ttl: entry.expiresAt - now, touched }
  }

  async remove(key: SessionKey, field: string): Promise<RemoveResult> {
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    const removed = liveField(entry, field, now) !== undefined
    entry.fields.delete(field)
    return { live: true, ttl: entry.expiresAt - now, touched: false, removed }
  }

  async delete(key: SessionKey): Promise<boolean> {
    const live = this.#live(key, Date.now()) !== undefined
    this.#sessions.delete(key)
    return live
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    if (seconds <= 0) {
      this.#sessions.delete(key)
      return { live: false }
    }
    entry.expiresAt = Math.min(now + seconds * 1000, entry.deadline)
    return { live: true, ttl: entry.expiresAt - now, touched: true }
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const now = Date.now()
    const entry = this.#live(from, now)
    if (entry === undefined) return { status: 'missing' }
    if (this.#live(to, now) !== undefined) return { status: 'collision' }
    this.#sessions.delete(from)
    this.#insert(to, entry)
    return { status: 'renamed', live: true, ttl: entry.expiresAt - now, touched: false }
  }

  /** Drop every expired session now (the timer calls this; exposed for tests and shutdown). */
  sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.#sessions) if (entry.expiresAt <= now) this.#sessions.delete(key)
  }

  /** Stop the sweep timer. Sessions stay readable. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The live entry at `key`, marked most recently used; an expired one is dropped on sight. */
  #live(key: SessionKey, now: number): Entry | undefined {
    const entry = this.#sessions.get(key)
    if (entry === undefined) return undefined
    this.#sessions.delete(key)
    if (entry.expiresAt <= now) return undefined
    this.#sessions.set(key, entry)
    return entry
  }

  #insert(key: SessionKey, entry: Entry): void {
    if (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next()
      if (!oldest.done) this.#sessions.delete(oldest.value)
    }
    this.#sessions.set(key, entry)
  }
}

function liveField(entry: Entry, field: string, now: number): StoredField | undefined {
  const stored = entry.fields.get(field)
  if (stored === undefined || stored.expiresAt > now) return stored
  entry.fields.delete(field)
  return undefined
}

/** Move the session's expiry forward to `target` (never back, never past its deadline). */
function extend(entry: Entry, target: number): boolean {
  const next = Math.min(target, entry.deadline)
  if (next <= entry.expiresAt) return false
  entry.expiresAt = next
  return true
}

function touch(entry: Entry, now: number, options: ReadOptions | undefined): boolean {
  const refresh = options?.touch
  if (refresh === undefined || entry.expiresAt - now > (refresh.ttl - refresh.threshold) * 1000) return false
  return extend(entry, now + refresh.ttl * 1000)
}
