import { type Candidate, MAX_CANDIDATES } from './candidates.js'
import { SessionStoreError } from './errors.js'
import type { SessionLayer } from './layer.js'
import type { LegacyMigration, MigratedSession } from './legacy.js'
import type { SessionCalls } from './session-calls.js'
import type { SessionCookies } from './session-commit.js'

// A session handle's hooks into the layer's `legacy` option (SPEC §16): where a request with no live
// session finds the one another library created, and how its response removes that library's cookie.

/**
 * @param calls - the handle's state
 * @returns whether the layer can look for a legacy session that this request has not looked for yet
 *   (asked when no live session is left)
 */
export function legacyPending<Data extends object>(calls: SessionCalls<Data>): boolean {
  return calls.layer.legacy !== undefined && !calls.legacyChecked
}

/**
 * The session migrated from the request's legacy cookie, as the current candidate. It is not
 * confirmed: the operation that asked runs against it as against a presented cookie, so a session
 * deleted since (within the grace window) is dropped like any dead one. `stale` re-issues the
 * cookie once the store shows it live.
 *
 * @param calls - the handle's state; only when {@link legacyPending}
 * @returns the migrated session's candidate, or `undefined` when the request has no live legacy session
 */
export async function migrateLegacy<Data extends object>(calls: SessionCalls<Data>): Promise<Candidate | undefined> {
  calls.legacyChecked = true
  const legacy = calls.layer.legacy as LegacyMigration
  const source = legacy.source
  // At most MAX_CANDIDATES legacy reads per request, whatever a third-party source returns.
  const found = (source.findAll?.(calls.header) ?? [source.find(calls.header)]).slice(0, MAX_CANDIDATES)
  // The first verified cookie whose session the legacy store still holds: one sent ahead of it (a
  // stale cookie, or one a sibling subdomain planted) neither hides it nor gets it removed.
  for (const legacyId of found) {
    if (legacyId === undefined) continue
    const migrated = await legacy.migrate(legacyId).catch(asStoreErrorOf(calls))
    if (migrated !== undefined) return adoptMigrated(calls, legacyId, migrated)
  }
  if (found.some((legacyId) => legacyId !== undefined)) calls.clearLegacy = true
  return undefined
}

function adoptMigrated<Data extends object>(
  calls: SessionCalls<Data>,
  legacyId: string,
  migrated: MigratedSession,
): Candidate {
  calls.migrated = { legacyId, session: migrated }
  const candidate: Candidate = { id: migrated.id, key: migrated.key, stale: true }
  calls.candidates = [candidate]
  calls.confirmed = false
  return candidate
}

/**
 * Destroy the legacy session this request's migration copied, if it is still whole: when the response
 * carries a session cookie, or the handler ended the copy. From then on the response also removes the
 * legacy cookie.
 *
 * @param calls - the handle's state
 * @returns when the legacy session is gone; rejects with a `SessionStoreError` (recorded as the
 *   request's store error), and the response must then carry no session cookie
 */
export async function settleLegacy<Data extends object>(calls: SessionCalls<Data>): Promise<void> {
  const migrated = calls.migrated
  if (migrated === undefined) return
  await (calls.layer.legacy as LegacyMigration).settle(migrated.legacyId, migrated.session).catch(asStoreErrorOf(calls))
  calls.migrated = undefined
  calls.clearLegacy = true
}

/**
 * The request that copied a legacy session ends without committing (sealed: a 5xx after a store
 * failure): the legacy session stays whole, and this process stops handing out the copy, which the
 * request may have moved or left half-written. The next request with the legacy cookie migrates again.
 *
 * @param calls - the handle's state
 */
export function abandonLegacy<Data extends object>(calls: SessionCalls<Data>): void {
  const migrated = calls.migrated
  if (migrated === undefined) return
  calls.migrated = undefined
  ;(calls.layer.legacy as LegacyMigration).abandon(migrated.legacyId, migrated.session)
}

/**
 * A legacy store's failure is the request's store failure like any other: the response answers it
 * without a cookie (`failsClosed`). Its calls do not go through `SessionCalls.call`, which would
 * trace and report them under the layer's store.
 *
 * @param calls - the handle's state
 * @returns a rejection handler that records a `SessionStoreError` and rethrows whatever it got
 */
function asStoreErrorOf<Data extends object>(calls: SessionCalls<Data>): (error: unknown) => never {
  return (error) => {
    if (error instanceof SessionStoreError) calls.storeError = error
    throw error
  }
}

/**
 * The `Set-Cookie` lines of a response that must also remove the legacy cookie.
 *
 * @param layer - the layer, with its `legacy` option
 * @param cookie - the session cookie's line, if it changes
 * @returns the legacy removal, the session cookie alone when it replaces the legacy one under the
 *   same name, or both
 */
export function withLegacyRemoval(
  layer: Pick<SessionLayer, 'legacy' | 'cookie'>,
  cookie: string | undefined,
): SessionCookies {
  const legacy = (layer.legacy as LegacyMigration).source
  if (cookie === undefined) return legacy.removalCookie
  // Under the same name, the new cookie replaces the legacy one; a removal would delete it again.
  return legacy.cookieName === layer.cookie.name ? cookie : [cookie, legacy.removalCookie]
}
