import { MAX_COOKIE_AGE, serializeRemovalCookie, serializeSessionCookie } from './cookie.js'
import type { SessionCalls } from './session-calls.js'
import { settleLegacy, withLegacyRemoval } from './session-legacy.js'

// What a session handle's response says about the cookie, once its operations have settled:
// `commit()` (adapters, when the headers go out) and `flush()` (frameworks without that moment).

/** The session cookie a response must send, as {@link Session.flush} reports it. */
export interface OutgoingCookie {
  /** The cookie value: the (signed) id, or `''` to remove the cookie. */
  value: string
  /** Whole seconds; `0` removes the cookie. */
  maxAge: number
}

/**
 * What {@link Session.commit} resolves to when a cookie changes: one `Set-Cookie` line (the usual
 * case), or several when a legacy cookie is removed as well. Each line is its own header; never join
 * them with commas.
 */
export type SessionCookies = string | readonly string[]

/**
 * Seal the handle, wait for its operations, and tell the cookies the response must send.
 *
 * @param calls - the handle's state
 * @returns what `session.commit()` resolves to
 */
export async function commitCookies<Data extends object>(
  calls: SessionCalls<Data>,
): Promise<SessionCookies | undefined> {
  calls.sealed = true
  // The usual handler has awaited its calls: nothing to wait for, and no promise built for it.
  if (!calls.idle) await calls.settle()
  const cookie = sessionCookie(calls)
  // A migrated legacy session goes once its copy's cookie goes out; rejects (503) when it cannot.
  if (cookie !== undefined && calls.migrated !== undefined) await settleLegacy(calls)
  return calls.clearLegacy ? withLegacyRemoval(calls.layer, cookie) : cookie
}

/**
 * Wait for the handle's operations, without sealing it, and tell the session cookie.
 *
 * @param calls - the handle's state
 * @returns what `session.flush()` resolves to
 */
export async function flushCookie<Data extends object>(calls: SessionCalls<Data>): Promise<OutgoingCookie | undefined> {
  if (!calls.idle) await calls.settle()
  const cookie = outgoingCookie(calls)
  if (cookie !== undefined && calls.migrated !== undefined) await settleLegacy(calls)
  return cookie
}

function sessionCookie<Data extends object>(calls: SessionCalls<Data>): string | undefined {
  const cookie = outgoingCookie(calls)
  if (cookie === undefined) return undefined
  const options = calls.layer.cookie
  return cookie.maxAge === 0
    ? serializeRemovalCookie(options)
    : serializeSessionCookie(options, cookie.value, cookie.maxAge)
}

function outgoingCookie<Data extends object>(calls: SessionCalls<Data>): OutgoingCookie | undefined {
  const layer = calls.layer
  if (calls.outgoing === 'clear') return { value: '', maxAge: 0 }
  const current = calls.candidates?.[0]
  if (calls.outgoing !== 'set' || current === undefined || !calls.confirmed) return undefined
  layer.warnIfInsecure(calls.transport)
  // A presented cookie that verified under the current secret is re-sent as is (saves an HMAC).
  const value = current.cookieValue ?? (layer.signer ? layer.signer.sign(current.id) : current.id)
  return { value, maxAge: Math.min(MAX_COOKIE_AGE, Math.max(1, Math.floor(calls.ttl / 1000))) }
}
