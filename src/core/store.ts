import type { IntegerFormat } from './integers.js'

/**
 * The key a store files a session under: the base64url SHA-256 of the session id (43 chars).
 * Stores never see the raw id, so a dump of a store cannot be replayed as cookies.
 */
export type SessionKey = string

/** Encoded field value as produced by the layer's codec. Stores treat it as opaque bytes. */
export type FieldValue = Uint8Array

/**
 * Sliding-lifetime refresh that a read may carry (`idleTimeout`). When the session's remaining
 * lifetime is below `ttl - threshold` seconds, the store extends it to `ttl` (never beyond the
 * session's absolute deadline) in the same round trip as the read.
 */
export interface TouchOptions {
  /** Target remaining lifetime in seconds. */
  ttl: number
  /** Skip the refresh while at least `ttl - threshold` seconds remain. */
  threshold: number
}

/** Options of the read operations. */
export interface ReadOptions {
  touch?: TouchOptions
}

/**
 * What a store reports about a session after an operation: `ttl` is the session's remaining
 * lifetime in milliseconds measured by the store's own clock, `touched` whether this very
 * operation moved the session's expiry.
 */
export interface LiveSession {
  live: true
  ttl: number
  touched: boolean
}

/** No live session under the key (never created, expired, or deleted). */
export interface NoSession {
  live: false
}

/**
 * Result of {@link SessionStore.get}. `value` is `undefined` when the field is missing or expired.
 * `fieldTtl`, when the store reports it (every bundled store does, with a value): the field's own
 * remaining lifetime in milliseconds, by the store's clock. A layered store bounds the hot copies it
 * warms by it, so that no copy outlives the field.
 */
export type FieldRead = NoSession | (LiveSession & { value: FieldValue | undefined; fieldTtl?: number })

/** Result of {@link SessionStore.getAll}: every live field. */
export type SessionRead = NoSession | (LiveSession & { fields: Map<string, FieldValue> })

/** Result of {@link SessionStore.remove}. */
export type RemoveResult = NoSession | (LiveSession & { removed: boolean })

/** Result of {@link SessionStore.expire}. */
export type ExpireResult = NoSession | LiveSession

/**
 * Where a write lands, shared by {@link SessionStore.write} and {@link SessionStore.increment}.
 *
 * - `session: 'existing'` writes only into a live session (never resurrects a deleted or expired
 *   one); `'create'` creates the session and fails with `collision` when the key is already live.
 * - `renameFrom` (with `session: 'existing'`) first moves the live session at `renameFrom`, all
 *   fields and TTLs, to `key`, then writes; both in one atomic step. The move happens even when the
 *   write itself changes nothing (`exists`, `invalid`).
 */
export interface PlacementOptions {
  session: 'existing' | 'create'
  /** The field's own TTL in seconds (whole, ≥ 1). */
  fieldTtl: number
  /** Extend the session's lifetime to at least this many seconds from now (never shorten). */
  sessionTtl: number
  /** With `session: 'create'`: hard cap on the session's lifetime in seconds from creation. */
  maxLifetime?: number
  renameFrom?: SessionKey
  /**
   * Most live fields the session may hold (a whole number ≥ 1). A write or increment that would add
   * a field (absent, or expired) to a session already holding this many live fields changes nothing
   * and reports `full` (a `renameFrom` move still happens); expired fields do not count. Updating or
   * incrementing a live field never hits it. Given only to a store that lists `'maxFields'` in
   * {@link SessionStore.limits}; absent means no limit.
   */
  maxFields?: number
}

/**
 * Options of {@link SessionStore.write}: `mode: 'insert'` writes only when the field is absent (or
 * expired); `'update'` always writes.
 */
export interface WriteOptions extends PlacementOptions {
  mode: 'insert' | 'update'
  /** Store-specific options, only names the store listed in {@link SessionStore.writeOptions}. */
  extra?: Readonly<Record<string, unknown>>
}

/**
 * Options of {@link SessionStore.increment}. `fieldTtl` applies only when the call creates the
 * field (it was absent or expired); an existing field keeps its expiry.
 */
export interface IncrementOptions extends PlacementOptions {
  /** A safe integer to add; may be negative. */
  by: number
  /** How the layer's codec spells integers; the store reads and writes the field in it. */
  format: IntegerFormat
}

/**
 * Result of {@link SessionStore.increment}: `written` with the new `value`; `invalid` when the field
 * holds no safe integer in `format` or the sum would leave the safe range (nothing changed but a
 * `renameFrom` move); `full`, `missing` and `collision` as for {@link SessionStore.write}.
 */
export type IncrementResult =
  | (LiveSession & { status: 'written'; value: number })
  | (LiveSession & { status: 'invalid' | 'full' })
  | { status: 'missing' }
  | { status: 'collision' }

/**
 * Result of {@link SessionStore.write}:
 * - `written`: the field was written (`LiveSession` describes the session afterwards);
 * - `exists`: `insert` found the field present; nothing written (a `renameFrom` move still happened);
 * - `full`: the field was absent (or expired) and the session already holds `maxFields` live fields;
 *   nothing written (a `renameFrom` move still happened);
 * - `missing`: `session: 'existing'` and no live session at the key (or at `renameFrom`);
 * - `collision`: the target key is already live (`create`, or the target of `renameFrom`).
 */
export type WriteResult =
  | (LiveSession & { status: 'written' | 'exists' | 'full' })
  | { status: 'missing' }
  | { status: 'collision' }

/** Result of {@link SessionStore.rename}. */
export type RenameResult = (LiveSession & { status: 'renamed' }) | { status: 'missing' } | { status: 'collision' }

/**
 * Options of {@link SessionStore.bind}. The layer always passes a fresh `key`; the store moves the
 * session there only when the subject changes (binding to a new subject regenerates the
 * id in the same atomic step).
 *
 * - `session: 'create'` creates a bound session at `key` (a request without a session), with no
 *   fields; `collision` when `key` is live.
 * - `session: 'existing'` with `renameFrom`: when the live session at `renameFrom` is already bound
 *   to `subject`, only its `meta` is replaced and it stays where it is (`kept`; `key` is not looked
 *   at); otherwise it moves to `key` (all fields and TTLs, as {@link SessionStore.rename}; `collision`
 *   when `key` is live), is bound to `subject` and leaves the index of the subject it had (`bound`).
 *   `missing` when `renameFrom` is not live.
 *
 * Either way the session's lifetime is extended to at least `sessionTtl` (never shortened) and its
 * `lastActiveAt` is now. The store may trust the values (the layer checked them); `checkBindOptions`
 * from `ruts` checks them for a store that wants to.
 */
export interface BindOptions {
  session: 'existing' | 'create'
  /** With `session: 'existing'`: the session's current key. */
  renameFrom?: SessionKey
  /** 1–256 characters, opaque to the store. */
  subject: string
  /** JSON text of the session's metadata (at most 1 KB), shown by {@link SessionStore.listSubject}. */
  meta: string
  /** Extend the session's lifetime to at least this many seconds from now (never shorten). */
  sessionTtl: number
  /** With `session: 'create'`: hard cap on the session's lifetime in seconds from creation. */
  maxLifetime?: number
  /**
   * Keep at most this many live sessions bound to `subject`, this one included: binding ends the
   * least recently active ones beyond it, in the same call. @default unlimited
   */
  maxSessions?: number
}

/**
 * Result of {@link SessionStore.bind}: `bound` (the session now lives at the new key, or was created
 * there) or `kept` (already bound to the subject: meta replaced, key unchanged), each with the keys of
 * the live sessions `maxSessions` ended (a layered store drops their hot copies, the layer publishes
 * one `revoked` event each); `missing` and `collision` as for {@link SessionStore.write}, with
 * nothing changed.
 */
export type BindResult =
  | (LiveSession & { status: 'bound' | 'kept'; ended: SessionKey[] })
  | { status: 'missing' }
  | { status: 'collision' }

/** Result of {@link SessionStore.subjectOf}: the subject a live session is bound to, if any. */
export type SubjectRead = NoSession | (LiveSession & { subject: string | undefined; meta: string | undefined })

/**
 * One live session bound to a subject, as {@link SessionStore.listSubject} reports it. Times are
 * milliseconds since the epoch by the store's own clock (the clock that decides expiry).
 */
export interface SubjectSession {
  key: SessionKey
  /** When the session was created (kept across renames and binds). */
  createdAt: number
  /**
   * When the session was last active. Every store moves it to "now" on `bind`, `write`, `increment`,
   * and on a read whose lifetime refresh moved the expiry (`touched: true`); it may also move it on
   * `expire`, `remove` and `take`, and never moves it on any other operation (a plain read, `subjectOf`,
   * `listSubject`). A rename keeps it. The order of {@link SessionStore.listSubject} and the victims
   * of `maxSessions` follow it.
   */
  lastActiveAt: number
  /** When the session expires unless refreshed (ms since the epoch). */
  expiresAt: number
  /** The JSON text given to {@link SessionStore.bind}. */
  meta: string
}

/**
 * Which sessions of a subject {@link SessionStore.revokeSubject} ends: the subject's live sessions
 * among `keys` (all of them when `keys` is absent), minus `except`.
 */
export interface RevokeTarget {
  /** Only these keys (a key bound to another subject, or to none, is left alone); all when absent. */
  keys?: readonly SessionKey[]
  /** Never this key (`revokeOthers`). */
  except?: SessionKey
}

/**
 * The contract every session store implements. Third parties can implement it and run the shared
 * conformance suite from `ruts/testing` against their store: docs/stores.md ("Implement your own
 * store") has a complete map-backed store, one comment per rule it keeps, that a test runs through
 * `describeStoreConformance`.
 *
 * Rules every implementation keeps:
 * - Each operation is **one atomic step and one round trip** to the backend.
 * - An expired session is absent: it is never returned, and creating over it is not a collision.
 * - An expired field is never returned, even before the backend has physically removed it.
 * - A field never outlives its session.
 * - Every operation is bounded by the store's own timeout and fails with `SessionStoreError`.
 * - The store never closes or reconfigures a client or pool it was given; `close()` stops only what
 *   the store started itself (timers, background tasks).
 */
export interface SessionStore {
  /** Short name used in error messages, e.g. `"redis"`. */
  readonly name: string
  /**
   * Names of the store-specific write options this store understands (they reach {@link write} in
   * `WriteOptions.extra`; the store validates their values). A call that passes any other option
   * fails with `ERR_SESSION_OPTION` before reaching the store. @default none
   */
  readonly writeOptions?: readonly string[]
  /**
   * The limits of {@link STORE_LIMITS} this store enforces. The layer passes a limit in the options of
   * `write` and `increment` only to a store that lists it; a store that does not is never limited
   * (and keeps working unchanged). Every bundled store lists `'maxFields'`. @default none
   */
  readonly limits?: readonly StoreLimit[]
  /** One field of a live session. */
  get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead>
  /** Every live field of a live session. */
  getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead>
  /** Write one field (see {@link WriteOptions}). */
  write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult>
  /** Delete one field. Removing a missing field is a no-op and never ends the session. */
  remove(key: SessionKey, field: string): Promise<RemoveResult>
  /** Delete the whole session. `true` when a live session was deleted. */
  delete(key: SessionKey): Promise<boolean>
  /**
   * Set the session's remaining lifetime to `seconds` (shorten or lengthen, capped by its absolute
   * deadline); `0` deletes it.
   */
  expire(key: SessionKey, seconds: number): Promise<ExpireResult>
  /**
   * Move a live session, all fields and TTLs, to a new key that must not be live. A session bound to
   * a subject stays bound (with its meta, `createdAt` and `lastActiveAt`): the subject's index names
   * the new key, never the old one. The same holds for the move of a `renameFrom` write or increment.
   */
  rename(from: SessionKey, to: SessionKey): Promise<RenameResult>
  /**
   * Capability `fieldOperations`: add to an integer field in one atomic step (a missing or expired
   * field counts as 0). Optional: without it `Session.increment` fails with `ERR_SESSION_UNSUPPORTED`.
   */
  increment?(key: SessionKey, field: string, options: IncrementOptions): Promise<IncrementResult>
  /**
   * Capability `fieldOperations`: read and delete one field in one atomic step; of concurrent takes
   * exactly one receives the value. Never touches the session's lifetime.
   */
  take?(key: SessionKey, field: string): Promise<FieldRead>
  /**
   * Capability `subjects`: bind a session to a subject, moving it to `key` when the
   * subject changes; see {@link BindOptions}. One atomic step where the backend allows it.
   *
   * Rules of the whole capability: a session belongs to at most one subject; `delete`, `expire(0)`,
   * expiry, revocation and `maxSessions` take it out of its subject (it is never listed again, and
   * its index entry is pruned by a later `bind` or `listSubject` at the latest, so an index never
   * grows without bound); a revoked key is absent for every operation, like a deleted one.
   */
  bind?(key: SessionKey, options: BindOptions): Promise<BindResult>
  /** Capability `subjects`: the subject and meta of a live session. Never touches its lifetime. */
  subjectOf?(key: SessionKey): Promise<SubjectRead>
  /**
   * Capability `subjects`: the subject's live sessions, most recently active first. Entries of
   * expired or deleted sessions are never returned and are pruned from the index here.
   */
  listSubject?(subject: string): Promise<SubjectSession[]>
  /**
   * Capability `subjects`: end the subject's sessions in `target`; resolves with the keys of the
   * live sessions it ended. When it resolves, no tier serves them and no write in flight can bring
   * them back; a session bound concurrently is either ended or listed afterwards.
   */
  revokeSubject?(subject: string, target: RevokeTarget): Promise<SessionKey[]>
  /** Stop timers and background work the store started. Never closes a user's client. */
  close?(): Promise<void>
}

/**
 * Optional parts of the store contract, each a set of methods a store implements all or none of.
 * A store declares a capability by having its methods; the layer answers a call that needs a
 * missing one with `ERR_SESSION_UNSUPPORTED`, and the conformance suite skips its tests only when
 * the suite's caller states why (`skipCapabilities`).
 */
export const STORE_CAPABILITIES = {
  /** `increment` and `take`. */
  fieldOperations: ['increment', 'take'],
  /** `bind`, `subjectOf`, `listSubject` and `revokeSubject`. */
  subjects: ['bind', 'subjectOf', 'listSubject', 'revokeSubject'],
} as const satisfies Record<string, readonly (keyof SessionStore)[]>

/**
 * Optional limits of the store contract: each is an option of {@link PlacementOptions} that a store
 * enforces inside its own atomic step, declared by listing its name in {@link SessionStore.limits}.
 */
export const STORE_LIMITS = {
  /** {@link PlacementOptions.maxFields}: writes that would add a field to a full session report `full`. */
  maxFields: 'maxFields',
} as const satisfies Record<string, keyof PlacementOptions>

/** The name of an optional limit of the store contract; see {@link STORE_LIMITS}. */
export type StoreLimit = keyof typeof STORE_LIMITS

/**
 * @param store - any store
 * @param limit - an optional limit of the contract
 * @returns `true` when the store enforces it (lists it in {@link SessionStore.limits})
 */
export function storeEnforces(store: SessionStore, limit: StoreLimit): boolean {
  return store.limits?.includes(limit) === true
}

/** The name of an optional part of the store contract; see {@link STORE_CAPABILITIES}. */
export type StoreCapability = keyof typeof STORE_CAPABILITIES

/**
 * @param store - any store
 * @param capability - an optional part of the contract
 * @returns `true` when the store implements every method of it
 */
export function storeSupports(store: SessionStore, capability: StoreCapability): boolean {
  return STORE_CAPABILITIES[capability].every((method) => typeof store[method] === 'function')
}
