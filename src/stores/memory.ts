import { addToInteger, checkIncrement } from '../core/integers.js'
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
} from '../core/store.js'
import { checkBindOptions, checkSubject } from '../core/subject-values.js'
import { checkExpireSeconds, checkWriteTtls } from '../core/ttl.js'
import { type Check, checkOptions, checks } from '../core/validate.js'
import { SubjectIndex, type SubjectMember } from './memory-subjects.js'
import { type Segmented, SegmentedRecency } from './recency.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept, a hard bound. Beyond it a session never used since its creation is evicted
   * first (least recently used among them), so a storm of one-shot sessions cannot push out
   * sessions that came back. @default 10000
   */
  maxSessions?: number
  /** Milliseconds between sweeps of expired sessions (an `unref`'d timer). @default 60000 */
  sweepInterval?: number
}

const MEMORY_OPTIONS = {
  maxSessions: checks.positiveInteger,
  sweepInterval: checks.milliseconds(),
} satisfies Record<keyof MemoryStoreOptions, Check>

interface StoredField {
  value: FieldValue
  expiresAt: number
}

interface Entry extends Segmented<Entry>, SubjectMember {
  key: SessionKey
  fields: Map<string, StoredField>
  /**
   * No field expires before this (ms): lower than or equal to every field's expiry, exact after a
   * full session reclaimed its expired fields, so a refused write to a full session costs O(1).
   */
  soonest: number
  expiresAt: number
  /** Absolute cap from `maxLifetime`; `Infinity` when none. */
  deadline: number
}

const UNLINKED = { older: undefined, newer: undefined }

/**
 * The embedded default store: a bounded in-process map with scan-resistant eviction (a segmented
 * LRU: new sessions start on probation and are evicted first; a session used again later is
 * protected), expired entries swept by an `unref`'d timer. Implements every optional capability
 * (`increment`/`take`, and subjects: src/stores/memory-subjects.ts). Single process only: use Redis
 * or Postgres when you run more than one.
 *
 * @example
 * ```ts
 * const layer = new SessionLayer({ store: new MemoryStore({ maxSessions: 50_000 }) })
 * ```
 */
export class MemoryStore implements SessionStore {
  readonly name = 'memory'
  /** Enforces `maxFields` (counting live fields only). */
  readonly limits = ['maxFields'] as const
  // Lookup by key; recency by two intrusive lists (probation, protected), every operation O(1).
  readonly #sessions = new Map<SessionKey, Entry>()
  readonly #recency: SegmentedRecency<Entry>
  readonly #subjects = new SubjectIndex<Entry>((entry) => this.#drop(entry))
  readonly #maxSessions: number
  #timer: ReturnType<typeof setInterval> | undefined

  /**
   * @param options - capacity and sweep interval
   * @throws SessionConfigError for a non-positive capacity or interval
   */
  constructor(options: MemoryStoreOptions = {}) {
    checkOptions('MemoryStore', options, MEMORY_OPTIONS)
    const maxSessions = options.maxSessions ?? 10_000
    const sweepInterval = options.sweepInterval ?? 60_000
    this.#maxSessions = maxSessions
    this.#recency = new SegmentedRecency(maxSessions)
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
    const stored = liveField(entry, field, now)
    if (stored === undefined) return { live: true, ttl: entry.expiresAt - now, touched, value: undefined }
    return { live: true, ttl: entry.expiresAt - now, touched, value: stored.value, fieldTtl: stored.expiresAt - now }
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
    checkWriteTtls(options)
    const now = Date.now()
    const entry = this.#place(key, options, now)
    if (typeof entry === 'string') return { status: entry }
    const present = liveField(entry, field, now) !== undefined
    if (options.mode === 'insert' && present) {
      return { status: 'exists', live: true, ttl: entry.expiresAt - now, touched: false }
    }
    if (!present && isFull(entry, options.maxFields, now)) {
      return { status: 'full', live: true, ttl: entry.expiresAt - now, touched: false }
    }
    // Own a compact copy: an encoder may hand out views into a larger shared buffer (msgpackr does),
    // and a kept view would pin that whole buffer. `Uint8Array#slice` copies; `Buffer#slice` does not.
    setField(entry, field, Uint8Array.prototype.slice.call(value), now + options.fieldTtl * 1000)
    entry.lastActiveAt = now
    const touched = options.session === 'create' || extend(entry, now + options.sessionTtl * 1000)
    return { status: 'written', live: true, ttl: entry.expiresAt - now, touched }
  }

  async increment(key: SessionKey, field: string, options: IncrementOptions): Promise<IncrementResult> {
    checkIncrement(options)
    const now = Date.now()
    const entry = this.#place(key, options, now)
    if (typeof entry === 'string') return { status: entry }
    const stored = liveField(entry, field, now)
    if (stored === undefined && isFull(entry, options.maxFields, now)) {
      return { status: 'full', live: true, ttl: entry.expiresAt - now, touched: false }
    }
    const sum = addToInteger(stored?.value, options.by, options.format)
    if (sum === undefined) return { status: 'invalid', live: true, ttl: entry.expiresAt - now, touched: false }
    // A live field keeps its expiry: that is what makes a fixed window.
    setField(entry, field, sum.bytes, stored?.expiresAt ?? now + options.fieldTtl * 1000)
    entry.lastActiveAt = now
    const touched = options.session === 'create' || extend(entry, now + options.sessionTtl * 1000)
    return { status: 'written', live: true, ttl: entry.expiresAt - now, touched, value: sum.value }
  }

  async take(key: SessionKey, field: string): Promise<FieldRead> {
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    const value = liveField(entry, field, now)?.value
    entry.fields.delete(field)
    return { live: true, ttl: entry.expiresAt - now, touched: false, value }
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
    const entry = this.#live(key, Date.now())
    if (entry !== undefined) this.#drop(entry)
    return entry !== undefined
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    checkExpireSeconds(seconds)
    const now = Date.now()
    const entry = this.#live(key, now)
    if (entry === undefined) return { live: false }
    if (seconds <= 0) {
      this.#drop(entry)
      return { live: false }
    }
    entry.expiresAt = Math.min(now + seconds * 1000, entry.deadline)
    entry.lastActiveAt = now
    return { live: true, ttl: entry.expiresAt - now, touched: true }
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const now = Date.now()
    const entry = this.#live(from, now)
    if (entry === undefined) return { status: 'missing' }
    if (this.#live(to, now) !== undefined) return { status: 'collision' }
    this.#move(entry, to)
    return { status: 'renamed', live: true, ttl: entry.expiresAt - now, touched: false }
  }

  async bind(key: SessionKey, options: BindOptions): Promise<BindResult> {
    checkBindOptions(options)
    const now = Date.now()
    const current = options.session === 'existing' ? this.#live(options.renameFrom ?? key, now) : undefined
    if (options.session === 'existing' && current === undefined) return { status: 'missing' }
    // Already bound to this subject: the session stays where it is (no new id for the same user).
    const kept = current !== undefined && current.subject === options.subject
    const entry = kept ? current : this.#place(key, { ...options, fieldTtl: options.sessionTtl }, now)
    if (typeof entry === 'string') return { status: entry }
    const ended = this.#subjects.bind(entry, options.subject, options.meta, now, options.maxSessions)
    const touched = options.session === 'create' || extend(entry, now + options.sessionTtl * 1000)
    return { status: kept ? 'kept' : 'bound', live: true, ttl: entry.expiresAt - now, touched, ended }
  }

  async subjectOf(key: SessionKey): Promise<SubjectRead> {
    const now = Date.now()
    const entry = this.#sessions.get(key)
    if (entry === undefined || entry.expiresAt <= now) return { live: false }
    return { live: true, ttl: entry.expiresAt - now, touched: false, subject: entry.subject, meta: entry.meta }
  }

  async listSubject(subject: string): Promise<SubjectSession[]> {
    checkSubject(subject)
    return this.#subjects.list(subject, Date.now())
  }

  async revokeSubject(subject: string, target: RevokeTarget): Promise<SessionKey[]> {
    checkSubject(subject)
    return this.#subjects.revoke(subject, target, Date.now(), (key) => this.#sessions.get(key))
  }

  /**
   * @param subject - a subject
   * @returns how many entries the subject's index holds, live or not yet pruned (for tests: it
   *   stays bounded by the subject's live sessions)
   */
  subjectIndexSize(subject: string): number {
    return this.#subjects.size(subject)
  }

  /** Drop every expired session now (the timer calls this; exposed for tests and shutdown). */
  sweep(): void {
    const now = Date.now()
    for (const entry of this.#sessions.values()) if (entry.expiresAt <= now) this.#drop(entry)
  }

  /** Stop the sweep timer. Sessions stay readable. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The entry a write goes to (see {@link PlacementOptions}), created or moved as asked. */
  #place(key: SessionKey, options: PlacementOptions, now: number): Entry | 'missing' | 'collision' {
    if (options.session === 'create') {
      if (this.#live(key, now) !== undefined) return 'collision'
      const deadline = options.maxLifetime === undefined ? Number.POSITIVE_INFINITY : now + options.maxLifetime * 1000
      const expiresAt = Math.min(now + options.sessionTtl * 1000, deadline)
      const entry: Entry = {
        key,
        fields: new Map(),
        soonest: Number.POSITIVE_INFINITY,
        expiresAt,
        deadline,
        createdAt: now,
        lastActiveAt: now,
        subject: undefined,
        meta: undefined,
        protected: false,
        ...UNLINKED,
      }
      this.#insert(entry)
      return entry
    }
    if (options.renameFrom !== undefined) {
      const entry = this.#live(options.renameFrom, now)
      if (entry === undefined) return 'missing'
      if (this.#live(key, now) !== undefined) return 'collision'
      this.#move(entry, key)
      return entry
    }
    return this.#live(key, now) ?? 'missing'
  }

  /** The live entry at `key`, marked as used; an expired one is dropped on sight. */
  #live(key: SessionKey, now: number): Entry | undefined {
    const entry = this.#sessions.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#drop(entry)
      return undefined
    }
    this.#recency.used(entry, now)
    return entry
  }

  /** Add a new entry on probation, evicting beyond capacity: probation's oldest first. */
  #insert(entry: Entry): void {
    if (this.#sessions.size >= this.#maxSessions) {
      const victim = this.#recency.victim()
      if (victim !== undefined) this.#drop(victim)
    }
    this.#sessions.set(entry.key, entry)
    this.#recency.add(entry)
  }

  /** Re-key a live entry (rename), keeping its fields and recency. */
  #move(entry: Entry, key: SessionKey): void {
    this.#sessions.delete(entry.key)
    entry.key = key
    this.#sessions.set(key, entry)
  }

  #drop(entry: Entry): void {
    this.#sessions.delete(entry.key)
    this.#recency.remove(entry)
    this.#subjects.leave(entry)
  }
}

function liveField(entry: Entry, field: string, now: number): StoredField | undefined {
  const stored = entry.fields.get(field)
  if (stored === undefined || stored.expiresAt > now) return stored
  entry.fields.delete(field)
  return undefined
}

/** Store a field, keeping {@link Entry.soonest} a lower bound of the field expiries. */
function setField(entry: Entry, field: string, value: FieldValue, expiresAt: number): void {
  entry.fields.set(field, { value, expiresAt })
  if (expiresAt < entry.soonest) entry.soonest = expiresAt
}

/**
 * Whether the session already holds `maxFields` live fields, so a new one does not fit. Only a
 * session whose map reaches the limit is looked at closely, and only when one of its fields may have
 * expired (`soonest` has come): its expired fields are reclaimed, so they never count, and `soonest`
 * made exact. A client retrying new fields against a full session costs O(1) per write.
 */
function isFull(entry: Entry, maxFields: number | undefined, now: number): boolean {
  if (maxFields === undefined || entry.fields.size < maxFields) return false
  if (entry.soonest > now) return true
  let soonest = Number.POSITIVE_INFINITY
  for (const [field, stored] of entry.fields) {
    if (stored.expiresAt <= now) entry.fields.delete(field)
    else if (stored.expiresAt < soonest) soonest = stored.expiresAt
  }
  entry.soonest = soonest
  return entry.fields.size >= maxFields
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
  const touched = extend(entry, now + refresh.ttl * 1000)
  if (touched) entry.lastActiveAt = now
  return touched
}
