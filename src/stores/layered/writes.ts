import { SessionStoreError } from '../../core/errors.js'
import type { FieldValue, SessionKey, SessionStore, WriteOptions, WriteResult } from '../../core/store.js'
import type { Flight, KeyActivity } from './activity.js'
import type { HotTier } from './hot-tier.js'
import type { ResolvedWrite } from './policies.js'

/** The parts of a layered store a write needs. */
export interface Tiers {
  readonly hot: HotTier
  readonly cold: SessionStore
  readonly activity: KeyActivity
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
 * The hot copy's lifetime for a cold remaining lifetime in ms: whole seconds, 1–2 s short of cold's,
 * so that a hot copy written shortly after cold answered (within the hot timeout) never outlives it.
 */
export const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) - 1

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
  const result = await cold.write(key, write.field, write.value, options)
  const abandoned = options.renameFrom ?? key
  if (result.status === 'missing') {
    // The layer drops this id and starts a fresh session: a hot copy of it (a hot-only session, or a
    // stale one) must not linger as a live session.
    if (hot.trusted(abandoned)) hot.background('delete', (store) => store.delete(abandoned))
    return result
  }
  if (result.status === 'collision') return result
  const from = options.renameFrom
  if (from !== undefined && !hot.trusted(from)) {
    // The old key's hot copy is being repaired away; the new key has none yet, reads warm it.
    return result
  }
  if (!hot.trusted(key)) return result
  const hotSeconds = wholeSeconds(result.ttl)
  const fresh = result.status === 'written' && tiers.activity.quiet(write.flight, from === undefined ? 'write' : 'move')
  if (write.policy.strategy === 'write-through' && fresh && hotSeconds >= 1) {
    await putHot(tiers, write, hotSeconds)
  } else {
    if (from !== undefined) await moveHot(tiers, from, key)
    // cold-only, or a write whose value may already be older than another one in flight: the hot
    // copy is removed rather than overwritten, and the next read warms the current value.
    if (result.status === 'written') await step(hot, [key], 'remove', (store) => store.remove(key, write.field))
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
  if (from !== undefined) {
    const moved = await cold.rename(from, key)
    if (moved.status === 'collision') return moved
    if (moved.status === 'renamed') coldTtl = moved.ttl
  }
  for (const each of from === undefined ? [key] : [key, from]) {
    // A buried session's hot copy may be stale or deleted-but-not-yet: repair it before writing there.
    if (!(await hot.unbury(each))) {
      throw new SessionStoreError(`${hot.store.name} (hot): not consistent after a failure; hot-only write refused`)
    }
  }
  const hotOptions: WriteOptions = { ...options, fieldTtl: write.policy.hotTtl }
  hot.noteFieldTtl(write.policy.hotTtl)
  const result = await hot.strict('write', (store) => store.write(key, write.field, write.value, hotOptions))
  if (result.status !== 'missing' || options.session === 'create') return result
  // Hot has no session here. If cold holds it, hot had just evicted it: give the field a new hot copy.
  if (coldTtl === undefined) {
    const read = await cold.get(key, write.field)
    if (!read.live) return result
    coldTtl = read.ttl
  }
  if (!tiers.activity.settled(write.flight) || wholeSeconds(coldTtl) < 1) return result
  const { renameFrom: _, ...rest } = hotOptions
  const created: WriteOptions = {
    ...rest,
    session: 'create',
    sessionTtl: Math.max(rest.sessionTtl, wholeSeconds(coldTtl)),
  }
  const retry = await hot.strict('write', (store) => store.write(key, write.field, write.value, created))
  // Lost a race with a concurrent warm or write that created it: write into that one.
  if (retry.status !== 'collision') return retry
  return hot.strict('write', (store) => store.write(key, write.field, write.value, rest))
}

/** Write-through's hot step: update the hot copy (moving it first on a rename), never creating one. */
async function putHot(tiers: Tiers, write: LayeredWrite, sessionTtl: number): Promise<void> {
  const { hot } = tiers
  const { key, options } = write
  const fieldTtl = Math.min(write.policy.hotTtl, sessionTtl)
  // An existing session's hot copy is only updated: if hot evicted it, the next read warms it. Creating
  // one here could resurrect a session a concurrent delete just removed from hot.
  const hotOptions: WriteOptions = { mode: 'update', session: options.session, fieldTtl, sessionTtl }
  if (options.renameFrom !== undefined) hotOptions.renameFrom = options.renameFrom
  hot.noteFieldTtl(fieldTtl)
  const keys = options.renameFrom === undefined ? [key] : [key, options.renameFrom]
  const result = await step(hot, keys, 'write', (store) => store.write(key, write.field, write.value, hotOptions))
  // Hot holds something live at a key cold just created or moved to: leftovers, never to be served.
  if (result?.status === 'collision') await step(hot, keys, 'delete', (store) => deleteAll(store, keys))
}

/** Move the hot copy along with cold's rename; leftovers at the target are deleted. */
export async function moveHot(tiers: Pick<Tiers, 'hot'>, from: SessionKey, to: SessionKey): Promise<void> {
  const { hot } = tiers
  const moved = await step(hot, [from], 'rename', (store) => store.rename(from, to))
  if (moved?.status === 'collision') await step(hot, [from, to], 'delete', (store) => deleteAll(store, [from, to]))
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
export async function step<T>(
  hot: HotTier,
  keys: readonly SessionKey[],
  operation: string,
  work: (store: SessionStore) => Promise<T>,
): Promise<T | undefined> {
  const result = await hot.call(operation, work)
  if (result === undefined) for (const key of keys) hot.bury(key)
  return result
}

async function deleteAll(store: SessionStore, keys: readonly SessionKey[]): Promise<boolean> {
  const results = await Promise.all(keys.map((key) => store.delete(key)))
  return results.some(Boolean)
}
