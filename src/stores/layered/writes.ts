import { SessionStoreError } from '../../core/errors.js'
import type { FieldValue, RenameResult, SessionKey, SessionStore, WriteOptions, WriteResult } from '../../core/store.js'
import type { Flight, KeyActivity } from './activity.js'
import type { HotTier } from './hot-tier.js'
import {
  createHotOnly,
  createLease,
  endInHot,
  hotCopySeconds,
  isHotOnly,
  LEASE_FIELD,
  LEASE_SECONDS,
  leaseKeyOf,
} from './lease.js'
import { finishMoveInHot, guardWasHeld, type MoveGuard, prepareMove, releaseGuard } from './moves.js'
import type { ResolvedWrite } from './policies.js'

/** The parts of a layered store a write needs. */
export interface Tiers {
  readonly hot: HotTier
  readonly cold: SessionStore
  readonly activity: KeyActivity
  /**
   * Whether cold can end a session behind this process's back (it has subjects: a revocation, a
   * `maxSessions` trim), so that a move of a hot copy needs its guard ({@link prepareMove}).
   */
  readonly guardMoves: boolean
}

/** One write as the layer asked for it, with its resolved policy and its flight. */
export interface LayeredWrite {
  readonly key: SessionKey
  readonly field: string
  readonly value: FieldValue
  /** The layer's options without `extra`: what each tier receives (tiers are ordinary stores). */
  readonly options: WriteOptions
  readonly policy: ResolvedWrite
  readonly flight: Flight
}

/**
 * Cold holds no session at `key`: the layer drops this id and starts a fresh session, so a hot copy
 * of it (a hot-only session, or a stale one) must not linger as a live session.
 *
 * @param hot - the hot tier
 * @param key - the abandoned key
 */
export function dropAbandonedHotCopy(hot: HotTier, key: SessionKey): void {
  if (hot.trusted(key)) hot.background('delete', (store) => store.delete(key))
}

/**
 * Before a write or increment that consumes a rename changes cold: see {@link prepareMove}.
 *
 * @param tiers - the stores and bookkeeping
 * @param from - the old key
 * @param to - the new key
 * @returns the move's guard
 */
export function prepareRename(tiers: Tiers, from: SessionKey, to: SessionKey): Promise<MoveGuard> {
  return prepareMove(tiers.hot, from, to, 'rename', tiers.guardMoves)
}

/**
 * A write or increment consumed a rename: the old id is never served from hot again once this
 * resolves, here or anywhere (SPEC §10); a trusted hot copy moves to the new key (and is deleted there
 * again if the session was ended in cold meanwhile, {@link finishMoveInHot}).
 *
 * @param hot - the hot tier
 * @param from - the old key
 * @param guard - the new key's guard
 */
export async function endOldIdInHot(hot: HotTier, from: SessionKey, guard: MoveGuard): Promise<void> {
  const movable = hot.trusted(from)
  await finishMoveInHot<unknown>(hot, from, guard, 'rename', (store) =>
    movable ? moveHotCopy(store, from, guard.key) : store.delete(from),
  )
}

/**
 * A write or increment that was to consume a rename found no session (or a collision) in cold.
 *
 * @param hot - the hot tier
 * @param guard - the guard of the move that did not happen, if any
 */
export function abandonRename(hot: HotTier, guard: MoveGuard | undefined): void {
  if (guard !== undefined) releaseGuard(hot, guard)
}

/**
 * Cold's part of a write-shaped call (`write`, `increment`), which may consume a prepared rename from
 * `from`: the rename's guard is taken before cold runs and settled by what cold did (released when
 * cold found no session or a collision, the old id ended in hot when it moved).
 *
 * @param tiers - the stores and bookkeeping
 * @param key - the session key written
 * @param from - the key a rename moves from, if any
 * @param run - cold's call
 * @returns cold's result, and whether hot must now follow it (cold changed a session hot may hold)
 */
export async function coldFirst<Result extends { status: string }>(
  tiers: Tiers,
  key: SessionKey,
  from: SessionKey | undefined,
  run: () => Promise<Result>,
): Promise<
  { result: Result; follow: false } | { result: Exclude<Result, { status: 'missing' | 'collision' }>; follow: true }
> {
  const { hot } = tiers
  const guard = from === undefined ? undefined : await prepareRename(tiers, from, key)
  const result = await run()
  if (result.status === 'missing' || result.status === 'collision') {
    abandonRename(hot, guard)
    if (result.status === 'missing') dropAbandonedHotCopy(hot, from ?? key)
    return { result, follow: false }
  }
  if (from !== undefined && guard !== undefined) await endOldIdInHot(hot, from, guard)
  if (!hot.trusted(key)) return { result, follow: false }
  return { result: result as Exclude<Result, { status: 'missing' | 'collision' }>, follow: true }
}

/**
 * `write-through` and `cold-only`: cold decides, then hot is made consistent with what cold did.
 *
 * @param tiers - the stores and bookkeeping
 * @param write - the write
 * @returns cold's result (cold is the source of truth)
 */
export async function writeCold(tiers: Tiers, write: LayeredWrite): Promise<WriteResult> {
  const { hot, cold } = tiers
  const { key, options } = write
  const from = options.renameFrom
  const { result, follow } = await coldFirst(tiers, key, from, () => cold.write(key, write.field, write.value, options))
  if (!follow) return result
  const hotSeconds = hotCopySeconds(result.ttl)
  const fresh =
    result.status === 'written' && tiers.activity.unchanged(write.flight, from === undefined ? 'write' : 'move')
  if (write.policy.strategy === 'write-through' && fresh && hotSeconds >= 1) {
    await putHot(tiers, write, hotSeconds)
  } else if (result.status === 'written') {
    // cold-only, or a write whose value may already be older than another one in flight: the hot
    // copy is removed rather than overwritten, and the next read warms the current value.
    await syncHotOrDistrust(hot, [key], 'remove', (store) => store.remove(key, write.field))
  }
  return result
}

/**
 * `hot-only`: the value goes to hot only. A rename moves cold too (the session is one session). When
 * hot lacks the session but cold holds it (hot evicted it), a hot copy is created for the field.
 *
 * @param tiers - the stores and bookkeeping
 * @param write - the write
 * @returns hot's result
 * @throws SessionStoreError when hot cannot be reached: a hot-only value has nowhere else to go
 */
export async function writeHotOnly(tiers: Tiers, write: LayeredWrite): Promise<WriteResult> {
  const { hot, cold } = tiers
  const { key, options } = write
  const from = options.renameFrom
  let coldTtl: number | undefined
  let guard: MoveGuard | undefined
  if (from !== undefined) {
    guard = await prepareRename(tiers, from, key)
    const moved = await cold.rename(from, key)
    if (moved.status === 'collision') {
      abandonRename(hot, guard)
      return moved
    }
    if (moved.status === 'renamed') coldTtl = moved.ttl
    else {
      const hotOnly = await isHotOnly(hot, from)
      if (hotOnly !== true) {
        // Cold has just ended or moved the session, and the other call's hot step has not run yet: its
        // hot copy must not move to the new id (see HOT_ONLY_FIELD). When hot cannot tell, the copy is
        // left alone (it may be a hot-only session's only copy).
        abandonRename(hot, guard)
        if (hotOnly === false) await endInHot(hot, [from], 'write', (store) => store.delete(from))
        return { status: 'missing' }
      }
    }
  }
  try {
    return await writeInHot(tiers, write, guard, coldTtl)
  } catch (error) {
    // Cold moved the session, and hot may still hold it at the old id: this process trusts neither
    // copy until its repair loop has dealt with them (as after any move hot did not confirm).
    if (from !== undefined && coldTtl !== undefined) {
      hot.bury(from)
      hot.bury(key)
    }
    throw error
  }
}

/** The hot part of a `hot-only` write, after cold moved the session when it was renamed. */
async function writeInHot(
  tiers: Tiers,
  write: LayeredWrite,
  guard: MoveGuard | undefined,
  coldTtl: number | undefined,
): Promise<WriteResult> {
  const { hot, cold } = tiers
  const { key, options } = write
  const from = options.renameFrom
  if (from !== undefined) {
    // Void warms of the old id started elsewhere; the hot write below moves its hot copy.
    await hot.strict('lease', (store) => store.delete(leaseKeyOf(from)))
  }
  for (const each of from === undefined ? [key] : [key, from]) {
    // A buried session's hot copy may be stale or deleted-but-not-yet: repair it before writing there.
    if (!(await hot.unbury(each))) {
      throw new SessionStoreError(`${hot.store.name} (hot): not consistent after a failure; hot-only write refused`)
    }
  }
  const hotOptions: WriteOptions = { ...options, fieldTtl: write.policy.hotTtl }
  // Hot decides for a field only hot holds; its copy may also hold the hot-only mark, one more field.
  if (options.maxFields !== undefined) hotOptions.maxFields = options.maxFields + 1
  hot.noteFieldTtl(write.policy.hotTtl)
  if (options.session === 'create') {
    // A session only hot will hold: created with its mark (see HOT_ONLY_FIELD), then the field.
    const created = await hot.strict('write', (store) => createHotOnly(store, key, hotOptions))
    if (created.status !== 'written') return created
    return hot.strict('write', (store) =>
      store.write(key, write.field, write.value, { ...hotOptions, session: 'existing' }),
    )
  }
  const result = await hot.strict('write', (store) => store.write(key, write.field, write.value, hotOptions))
  // The guard goes before the lease below is taken at the same key. Gone while cold held the session
  // at `key`, it may have been ended there meanwhile: then what this write moved or wrote here goes too.
  if (guard !== undefined && guard.guard !== 'none' && !(await guardWasHeld(hot, guard)) && coldTtl !== undefined) {
    if (!(await cold.get(key, LEASE_FIELD)).live) {
      await hot.strict('write', (store) => store.delete(key))
      return { status: 'missing' }
    }
  }
  if (result.status === 'written' && result.touched) {
    // The session's lifetime (and the cookie's Max-Age) is cold's when cold holds it.
    return { ...result, ttl: await capAtCold(tiers, key, result) }
  }
  if (result.status !== 'missing') return result
  // Hot has no session here. If cold holds it, hot had just evicted it: give the field a new hot copy,
  // through the warm lease so that a delete elsewhere meanwhile cannot be undone.
  const { renameFrom: _, ...rest } = hotOptions
  const lease = await hot.strict('write', (store) => createLease(store, key))
  if (lease.status !== 'written')
    return hot.strict('write', (store) => store.write(key, write.field, write.value, rest))
  if (coldTtl === undefined) {
    const read = await cold.get(key, write.field)
    if (!read.live) return result
    coldTtl = read.ttl
  }
  const sessionTtl = hotCopySeconds(coldTtl)
  if (!tiers.activity.sessionUnchanged(write.flight) || sessionTtl < LEASE_SECONDS) return result
  const fieldTtl = Math.min(rest.fieldTtl, sessionTtl)
  const placed: WriteOptions = { ...rest, session: 'existing', fieldTtl, sessionTtl, renameFrom: leaseKeyOf(key) }
  const retry = await hot.strict('write', (store) => store.write(key, write.field, write.value, placed))
  // Lost a race with a concurrent warm or write that created it: write into that one.
  if (retry.status !== 'collision') return retry
  return hot.strict('write', (store) => store.write(key, write.field, write.value, rest))
}

/**
 * A hot-only write extended the hot session: it must not outlive cold's (absolute deadline
 * included), so when cold holds the session the hot copy is brought back to cold's lifetime. A session
 * cold does not hold lives only in hot, under the deadline it was created with.
 *
 * @returns the session's remaining lifetime in ms after the cap: what the write reports
 */
async function capAtCold(tiers: Tiers, key: SessionKey, written: { ttl: number }): Promise<number> {
  const cold = await tiers.cold.get(key, LEASE_FIELD)
  if (!cold.live || written.ttl <= cold.ttl) return written.ttl
  await tiers.hot.strict('expire', (store) => store.expire(key, Math.max(0, hotCopySeconds(cold.ttl))))
  return cold.ttl
}

/** Write-through's hot step: update the hot copy, never creating one for an existing session. */
async function putHot(tiers: Tiers, write: LayeredWrite, sessionTtl: number): Promise<void> {
  const { hot } = tiers
  const { key, options } = write
  const fieldTtl = Math.min(write.policy.hotTtl, sessionTtl)
  // An existing session's hot copy is only updated: if hot evicted it, the next read warms it. Creating
  // one here could resurrect a session a concurrent delete just removed from hot.
  const hotOptions: WriteOptions = { mode: 'update', session: options.session, fieldTtl, sessionTtl }
  // A new session's hot copy keeps its absolute deadline, a second short of cold's (hot-only fields
  // written later must not outlive it).
  if (options.session === 'create' && options.maxLifetime !== undefined) {
    hotOptions.maxLifetime = Math.max(1, options.maxLifetime - 1)
  }
  hot.noteFieldTtl(fieldTtl)
  const result = await syncHotOrDistrust(hot, [key], 'write', (store) =>
    store.write(key, write.field, write.value, hotOptions),
  )
  // Hot holds something live at a key cold just created: leftovers, never to be served.
  if (result?.status === 'collision') await syncHotOrDistrust(hot, [key], 'delete', (store) => store.delete(key))
}

/**
 * Move a hot copy along with cold's rename; leftovers at the target are deleted with it.
 *
 * @param store - the hot store
 * @param from - old key
 * @param to - new key
 * @returns hot's rename result
 */
export async function moveHotCopy(store: SessionStore, from: SessionKey, to: SessionKey): Promise<RenameResult> {
  const moved = await store.rename(from, to)
  if (moved.status === 'collision') await Promise.all([store.delete(from), store.delete(to)])
  return moved
}

/**
 * One hot call that keeps hot consistent with a change cold already made: when it fails, the
 * sessions it concerns are buried (read from cold only here until their hot copy is deleted).
 *
 * @param hot - the hot tier
 * @param keys - sessions whose hot copy may be stale if the call failed
 * @param operation - name for the report
 * @param work - the call
 * @returns its result, or `undefined` when it failed
 */
export async function syncHotOrDistrust<T>(
  hot: HotTier,
  keys: readonly SessionKey[],
  operation: string,
  work: (store: SessionStore) => Promise<T>,
): Promise<T | undefined> {
  const result = await hot.call(operation, work)
  if (result === undefined) for (const key of keys) hot.bury(key)
  return result
}
