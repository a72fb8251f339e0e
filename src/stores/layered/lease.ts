import { createHash } from 'node:crypto'
import { SessionError, SessionStoreError } from '../../core/errors.js'
import type { FieldValue, SessionKey, SessionStore, WriteOptions, WriteResult } from '../../core/store.js'
import { MAX_TTL } from '../../core/ttl.js'
import type { KeyActivity } from './activity.js'
import type { HotTier } from './hot-tier.js'

/**
 * The one field of a warm lease (below). Reserved: the layered store refuses it as a field name and
 * leaves it out of `getAll`, because a warmed hot copy carries it along.
 */
export const LEASE_FIELD = 'ruts:warm-lease'

/**
 * The field that marks a session created by `hot-only` writes, which cold never held. Reserved like
 * {@link LEASE_FIELD}. A move that finds no session in cold moves the hot copy only when it carries
 * this mark: otherwise cold has just ended (or moved) the session and the other call's hot step has
 * not run yet, and moving its copy would bring the session back under the new id.
 */
export const HOT_ONLY_FIELD = 'ruts:hot-only'

/**
 * Seconds a warm lease lives in hot. A warm that could arrive after its lease expired (cold took too
 * long) is skipped, and a session with less than this left in cold is not warmed from scratch.
 */
export const LEASE_SECONDS = 5

const EMPTY = new Uint8Array(0)
const LEASE: WriteOptions = { mode: 'update', session: 'create', fieldTtl: LEASE_SECONDS, sessionTtl: LEASE_SECONDS }

/**
 * The hot key of a session's warm lease: an ordinary session key (base64url SHA-256), derived so
 * that every process finds the same one.
 *
 * @param key - session key
 * @returns the lease's key
 */
export function leaseKeyOf(key: SessionKey): SessionKey {
  return createHash('sha256').update(`ruts-warm-lease:${key}`).digest('base64url')
}

/**
 * Create a session's warm lease in hot. A move's guard (see `prepareMove`) is the lease of the key
 * the session moves to, and names the key it moves from, so that ending the session there also
 * ends the copy still at the old key ({@link guardedFrom}).
 *
 * @param store - the hot store
 * @param key - session key
 * @param from - for a move's guard: the session's key before the move
 * @returns `written`, or `collision` while another reader holds it
 */
export function createLease(store: SessionStore, key: SessionKey, from?: SessionKey): Promise<WriteResult> {
  return store.write(leaseKeyOf(key), LEASE_FIELD, from === undefined ? EMPTY : encoder.encode(from), LEASE)
}

/**
 * @param store - the hot store
 * @param key - a session being ended
 * @returns the key a move to `key` is moving the session from, while that move's guard is held
 */
export async function guardedFrom(store: SessionStore, key: SessionKey): Promise<SessionKey | undefined> {
  const read = await store.get(leaseKeyOf(key), LEASE_FIELD)
  if (!read.live || read.value === undefined || read.value.byteLength === 0) return undefined
  return decoder.decode(read.value)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * The hot copy's lifetime for a cold remaining lifetime in ms: whole seconds, 1–2 s short of cold's,
 * so that a hot copy written shortly after cold answered (within the hot timeout) never outlives it.
 *
 * @param coldTtlMs - cold's remaining lifetime in milliseconds
 * @returns seconds for the hot copy; below 1 means "do not write one"
 */
export const hotCopySeconds = (coldTtlMs: number): number => Math.floor(coldTtlMs / 1000) - 1

/**
 * A warmed field's hot lifetime for the field's remaining lifetime in cold, as a read reported it:
 * whole seconds, rounded down, so that the copy never outlives the field. Unbounded when the cold
 * store did not report it (a third-party store).
 *
 * @param fieldTtlMs - the field's remaining milliseconds in cold, if known
 * @returns seconds; below 1 means "do not warm"
 */
export const hotFieldSeconds = (fieldTtlMs: number | undefined): number =>
  fieldTtlMs === undefined ? Number.POSITIVE_INFINITY : Math.floor(fieldTtlMs / 1000)

/**
 * @param field - a field name from the caller
 * @throws SessionError `ERR_SESSION_ARGUMENT` for the lease's reserved field
 */
export function refuseLeaseField(field: string): void {
  if (field === LEASE_FIELD || field === HOT_ONLY_FIELD) {
    throw new SessionError('ERR_SESSION_ARGUMENT', `the field name "${field}" is reserved by the LayeredStore`)
  }
}

/**
 * Tell hot that sessions ended or moved in cold (delete, expire, rename), and make sure it heard.
 * First each session's warm lease is deleted, which voids every warm another process started from a
 * cold read taken before this change; then `work` runs. Unlike other hot steps this one may not be
 * absorbed: if hot cannot confirm it, another process could go on serving the old session from hot,
 * so the sessions are buried here (read from cold, repaired in the background) and the call rejects.
 *
 * @param hot - the hot tier
 * @param keys - sessions that ended or moved in cold
 * @param operation - name for the error
 * @param work - the hot call that ends or moves the hot copies
 * @returns what `work` returned
 * @throws SessionStoreError when hot did not confirm
 */
export async function endInHot<T>(
  hot: HotTier,
  keys: readonly SessionKey[],
  operation: string,
  work: (store: SessionStore) => Promise<T>,
): Promise<T> {
  try {
    // In this order: a warm that moves a lease into place after the lease delete finds none; one
    // that moved it before has its copy removed by `work`.
    for (const key of keys) await hot.settle('lease', (store) => store.delete(leaseKeyOf(key)))
    const result = await hot.settle(operation, work)
    for (const key of keys) hot.confirm(key)
    return result
  } catch (error) {
    for (const key of keys) hot.bury(key)
    throw new SessionStoreError(`${hot.store.name} (hot): ${operation} reached cold but hot did not confirm it`, {
      cause: error,
    })
  }
}

/**
 * Before a delete, expire or rename touches cold: void the sessions' warm leases, and find out that
 * hot answers at all. When it does not, the call fails here having changed nothing, rather than
 * after cold changed with hot not told ({@link endInHot} then leaves a failed call that did half).
 *
 * @param hot - the hot tier
 * @param keys - sessions about to end or move
 * @param operation - name for the error
 * @throws SessionStoreError when hot does not answer; nothing was changed
 */
export async function reachHot(hot: HotTier, keys: readonly SessionKey[], operation: string): Promise<void> {
  try {
    for (const key of keys) await hot.strict('lease', (store) => store.delete(leaseKeyOf(key)))
  } catch (error) {
    throw new SessionStoreError(`${hot.store.name} (hot): unreachable, ${operation} not attempted`, { cause: error })
  }
}

/** A background warm of a session hot does not hold. */
export interface AbsentWarm {
  readonly hot: HotTier
  readonly cold: SessionStore
  readonly activity: KeyActivity
  readonly key: SessionKey
  readonly field: string
  /** Hot TTL cap of the field, `undefined` for none beyond the session's. */
  readonly hotTtl: number | undefined
  /** Local clock limit for sending the warm: its lease may have expired after it. */
  readonly hotTimeout: number
}

/**
 * Give a session hot lost (evicted, restarted) a hot copy again, without ever resurrecting one a
 * change elsewhere ended meanwhile. Three calls, in the background:
 *
 * 1. create the session's warm lease in hot (skip if another reader holds it);
 * 2. read the field from cold again: this read starts after the lease exists, so a delete, expire
 *    or rename that commits in cold after it also deletes the lease before it resolves;
 * 3. write the field with `renameFrom: lease`, which moves the lease into place atomically and fails
 *    (`missing`) when the lease is gone. A hot copy therefore only appears if no such change
 *    resolved between 2 and 3.
 *
 * @param warm - the session, field and tiers
 */
export async function warmAbsent(warm: AbsentWarm): Promise<void> {
  const { hot, cold, activity, key, field } = warm
  const leaseKey = leaseKeyOf(key)
  const started = Date.now()
  const flight = activity.begin(key, field)
  try {
    const lease = await hot.call('warm', (store) => createLease(store, key))
    if (lease?.status !== 'written') return
    const read = await cold.get(key, field)
    const sessionTtl = read.live ? hotCopySeconds(read.ttl) : 0
    // A lease that could expire before the warm lands might be another reader's by then.
    const late = Date.now() - started > (LEASE_SECONDS - 1) * 1000 - warm.hotTimeout
    if (!read.live || read.value === undefined || sessionTtl < LEASE_SECONDS || late) return
    if (!activity.unchanged(flight) || !hot.trusted(key)) return
    const fieldTtl = Math.min(warm.hotTtl ?? sessionTtl, sessionTtl, hotFieldSeconds(read.fieldTtl))
    if (fieldTtl < 1) return
    hot.noteFieldTtl(fieldTtl)
    const options: WriteOptions = { mode: 'insert', session: 'existing', fieldTtl, sessionTtl, renameFrom: leaseKey }
    await hot.call('warm', (store) => store.write(key, field, read.value as FieldValue, options))
  } finally {
    activity.end(flight)
  }
}

/**
 * Create a session only hot will hold, marked as such: the mark is its first field, written by the
 * create itself. The mark's own TTL is the longest a field may have: a field never outlives its
 * session, and a write extends the session by its `sessionTtl` alone, so the mark lives exactly as
 * long as the session, and no later write has to renew it.
 *
 * @param store - the hot store
 * @param key - the new session's key
 * @param options - the creating write's options
 * @returns the create's result (`collision` when hot holds a live session there)
 */
export function createHotOnly(store: SessionStore, key: SessionKey, options: WriteOptions): Promise<WriteResult> {
  return store.write(key, HOT_ONLY_FIELD, EMPTY, { ...options, mode: 'update', fieldTtl: MAX_TTL })
}

/**
 * @param hot - the hot tier
 * @param key - a session cold does not hold
 * @returns whether hot holds it as a session created by `hot-only` writes (see {@link HOT_ONLY_FIELD}),
 *   or `undefined` when hot cannot tell (a failed or slow read, reported): then the caller leaves the
 *   hot copy alone, since taking "cannot tell" for "no" would delete a hot-only session's only copy
 */
export async function isHotOnly(hot: HotTier, key: SessionKey): Promise<boolean | undefined> {
  const read = await hot.call('get', (store) => store.get(key, HOT_ONLY_FIELD))
  return read === undefined ? undefined : read.live && read.value !== undefined
}
