import { publishSessionEvent } from './diagnostics.js'
import { headersSent } from './errors.js'
import { createSessionId } from './ids.js'
import type { SessionCalls } from './session-calls.js'
import { legacyPending, migrateLegacy, settleLegacy } from './session-legacy.js'
import { isTtl, ttlError } from './ttl.js'

// The operations on a session as a whole (`delete`, `regenerate`, `prepareRegenerate`, `expire`):
// each changes what the response must say about the cookie, so each refuses once the handle is
// sealed and would need a new cookie.

/**
 * @param calls - the handle's state
 * @returns what `session.delete()` resolves to
 */
export function deleteSession<Data extends object>(calls: SessionCalls<Data>): Promise<boolean> {
  const sealed = calls.sealed
  return calls.run(async () => {
    if (sealed && calls.parse().length > 0) throw headersSent('delete()')
    const store = calls.layer.store
    let deleted = false
    for (const candidate of calls.parse()) {
      if (await calls.call('delete', () => store.delete(candidate.key))) {
        deleted = true
        break
      }
      if (calls.confirmed) break
    }
    // Keys an earlier call of this request found dead are retired too (see `SessionCalls.dropped`).
    if (!deleted) {
      for (const key of calls.dropped ?? []) {
        if (await calls.call('delete', () => store.delete(key))) deleted = true
      }
    }
    // A legacy session the request's legacy cookie still names ends too, also when a ruts session was
    // just deleted (a browser can hold both: a login on an instance still running express-session):
    // else the next request would migrate it and sign the user back in. Through the migration, not a
    // bare destroy: a parallel request may have migrated it already, and a logout must end that copy.
    if (legacyPending(calls)) {
      const migrated = await migrateLegacy(calls)
      if (migrated !== undefined && (await calls.call('delete', () => store.delete(migrated.key)))) deleted = true
    }
    // A logout ends the legacy session a migration copied, whatever cookie the response sends.
    await settleLegacy(calls)
    if (deleted) publishSessionEvent('deleted', store.name)
    calls.forget()
    calls.dropped = undefined
    if (calls.presentedCookie || calls.outgoing === 'set') calls.outgoing = 'clear'
    return deleted
  })
}

/**
 * @param calls - the handle's state
 * @returns what `session.regenerate()` resolves to
 */
export function regenerateSession<Data extends object>(calls: SessionCalls<Data>): Promise<string | undefined> {
  const sealed = calls.sealed
  return calls.run(async () => {
    if (sealed && calls.parse().length > 0) throw headersSent('regenerate()')
    calls.prepared = undefined
    return calls.moveTo(createSessionId())
  })
}

/**
 * @param calls - the handle's state
 * @returns what `session.prepareRegenerate()` returns
 */
export function prepareRegenerate<Data extends object>(calls: SessionCalls<Data>): string {
  if (calls.sealed) throw headersSent('prepareRegenerate()')
  calls.active = true
  calls.prepared = createSessionId()
  return calls.prepared
}

/**
 * @param calls - the handle's state
 * @param seconds - the caller's lifetime
 * @returns what `session.expire(seconds)` resolves to
 */
export function expireSession<Data extends object>(calls: SessionCalls<Data>, seconds: number): Promise<boolean> {
  if (!isTtl(seconds, 0)) return Promise.reject(ttlError('expire()', 0))
  if (seconds === 0) return deleteSession(calls)
  const sealed = calls.sealed
  return calls.run(async () => {
    if (sealed) throw headersSent('expire()')
    const result = await calls.onLive('expire', (key) => calls.layer.store.expire(key, seconds))
    if (result !== undefined) calls.outgoing = 'set'
    return result !== undefined
  })
}
