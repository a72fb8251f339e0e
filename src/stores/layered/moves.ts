import { SessionStoreError } from '../../core/errors.js'
import type { SessionKey, SessionStore } from '../../core/store.js'
import type { HotTier } from './hot-tier.js'
import { createLease, guardedFrom, leaseKeyOf } from './lease.js'

/**
 * What {@link prepareMove} took for the new key `key`: its warm lease as this move's guard (`held`),
 * or not, because someone else held that lease already or hot refused to write it (`taken`: the
 * moved copy is then deleted again after the move, to be safe), or because no guard is needed
 * (`none`: the cold store cannot end sessions behind the caller's back, it has no subjects).
 */
export interface MoveGuard {
  readonly key: SessionKey
  readonly guard: 'held' | 'taken' | 'none'
}

/**
 * Before a change moves a session from `from` to `to` in cold (rename, a write consuming a prepared
 * id, a bind to a new subject): void the warms of `from` and find out that hot answers — when it does
 * not, the call fails here having changed nothing — and, when `guarded`, take `to`'s warm lease as the
 * move's guard, in parallel (one hot round trip more, paid by stores whose cold has subjects).
 *
 * The guard closes a race the hot copy's move would otherwise open: a revocation (or a `maxSessions`
 * trim) that ends the session at `to` in cold after the move there, and deletes `to` in hot *before*
 * this process moves the hot copy there, would find nothing to delete, and the moved copy would then
 * be served, from hot, by every process. Ending a session in hot deletes its lease first
 * ({@link endSessionsInHot}, `endInHot`), so {@link finishMoveInHot} finds its guard gone and deletes
 * the copy it just moved.
 *
 * @param hot - the hot tier
 * @param from - the session's key before the move
 * @param to - its key after the move
 * @param operation - name for the error
 * @param guarded - whether sessions can be ended in cold by someone else (revocation, `maxSessions`)
 * @returns the guard, for {@link finishMoveInHot} or {@link releaseGuard}
 * @throws SessionStoreError when hot does not answer; nothing was changed
 */
export async function prepareMove(
  hot: HotTier,
  from: SessionKey,
  to: SessionKey,
  operation: string,
  guarded: boolean,
): Promise<MoveGuard> {
  try {
    const [, lease] = await Promise.all([
      hot.strict('lease', (store) => store.delete(leaseKeyOf(from))),
      // A hot store that answers but refuses writes (Redis at maxmemory with noeviction) must not stop
      // logins: without a guard, the moved copy is deleted again after the move, to be safe.
      guarded ? hot.call('lease', (store) => createLease(store, to, from)) : undefined,
    ])
    if (!guarded) return { key: to, guard: 'none' }
    return { key: to, guard: lease?.status === 'written' ? 'held' : 'taken' }
  } catch (error) {
    throw new SessionStoreError(`${hot.store.name} (hot): unreachable, ${operation} not attempted`, { cause: error })
  }
}

/**
 * The move did not happen in cold (missing, collision, or a bind that kept the session): drop the
 * guard in the background (it would expire with its lease's short lifetime anyway).
 *
 * @param hot - the hot tier
 * @param guard - the guard {@link prepareMove} took
 */
export function releaseGuard(hot: HotTier, guard: MoveGuard): void {
  if (guard.guard === 'held') hot.background('lease', (store) => store.delete(leaseKeyOf(guard.key)))
}

/**
 * Cold moved the session from `from` to `guard.key`: void warms of `from` started before the move,
 * move or delete the hot copy (`move`), then release the guard — and when the guard is gone, the
 * session at the new key was ended in cold meanwhile, so the copy just moved there is deleted too.
 * Like `endInHot`, this may not be absorbed: if hot fails, both keys are distrusted here (read from
 * cold only, repaired in the background) and the call rejects.
 *
 * @param hot - the hot tier
 * @param from - the old key
 * @param guard - the new key's guard
 * @param operation - name for the error
 * @param move - the hot call that moves (or deletes) the hot copy of `from`
 * @returns what `move` returned
 * @throws SessionStoreError when hot did not confirm
 */
export async function finishMoveInHot<T>(
  hot: HotTier,
  from: SessionKey,
  guard: MoveGuard,
  operation: string,
  move: (store: SessionStore) => Promise<T>,
): Promise<T> {
  const to = guard.key
  try {
    // As in endInHot: a warm that moves a lease into place after this delete finds none; one that
    // moved it before has its copy moved or deleted by `move`.
    await hot.settle('lease', (store) => store.delete(leaseKeyOf(from)))
    const result = await hot.settle(operation, move)
    if (guard.guard !== 'none' && !(await guardWasHeld(hot, guard))) {
      await hot.settle(operation, (store) => store.delete(to))
    }
    hot.confirm(from)
    return result
  } catch (error) {
    hot.bury(from)
    hot.bury(to)
    throw new SessionStoreError(`${hot.store.name} (hot): ${operation} reached cold but hot did not confirm it`, {
      cause: error,
    })
  }
}

/**
 * Release the guard.
 *
 * @param hot - the hot tier
 * @param guard - a guard {@link prepareMove} took (not `none`)
 * @returns `false` when it was gone (the session at its key was ended meanwhile) or never ours
 */
export async function guardWasHeld(hot: HotTier, guard: MoveGuard): Promise<boolean> {
  // After cold changed, like every hot step of a move: allowed the longer deadline (HotTier.settle).
  const held = await hot.settle('lease', (store) => store.delete(leaseKeyOf(guard.key)))
  return held && guard.guard === 'held'
}

/**
 * Sessions ended in cold (a revocation, a `maxSessions` trim): delete each one's warm lease — voiding
 * every warm started from a cold read taken before, and the guard of a move racing the end — then
 * its hot copy, all sessions at once. Sessions whose hot step failed are distrusted here and repaired
 * in the background, and the call rejects: it did reach cold.
 *
 * @param hot - the hot tier
 * @param keys - the ended sessions
 * @param operation - name for the error
 * @throws SessionStoreError when hot did not confirm every session
 */
export async function endSessionsInHot(hot: HotTier, keys: readonly SessionKey[], operation: string): Promise<void> {
  let failure: unknown
  let failed = 0
  await Promise.all(
    keys.map(async (key) => {
      try {
        // A move to `key` whose hot step has not run yet (another process) still has the copy at its
        // old key, which every process would serve: it goes too, warms of it voided first.
        // (A hot that cannot be read here leaves it to that move, which deletes what it moves.)
        const from = await hot.call('lease', (store) => guardedFrom(store, key))
        await hot.settle('lease', (store) => store.delete(leaseKeyOf(key)))
        if (from !== undefined) {
          await hot.settle('lease', (store) => store.delete(leaseKeyOf(from)))
          await hot.settle(operation, (store) => store.delete(from))
        }
        await hot.settle(operation, (store) => store.delete(key))
        hot.confirm(key)
      } catch (error) {
        failure ??= error
        failed++
        hot.bury(key)
      }
    }),
  )
  if (failed > 0) {
    throw new SessionStoreError(
      `${hot.store.name} (hot): ${operation} reached cold but hot did not confirm it for ${failed} of ${keys.length} sessions`,
      { cause: failure },
    )
  }
}
