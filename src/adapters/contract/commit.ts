import type { Session, SessionCookies } from '../../core/session.js'

/**
 * What an adapter needs of a session handle: whether the handler touched it, how to seal it when
 * the headers leave without a commit, and how to commit it for its `Set-Cookie` value. Any
 * `Session<Data>` is one, whatever its `Data`.
 */
export type CommittableSession = Pick<Session, 'active' | 'seal' | 'commit' | 'storeError'>

/**
 * Whether a response answers a store failure: a 5xx after a store call of the request failed. It
 * carries no session cookie, even when an earlier call created or regenerated the session: the
 * request fails closed (a regenerated session's browser keeps its old, retired id).
 *
 * @param session - the request's session handle
 * @param status - the response status
 * @returns `true` when the adapter must seal the handle and send no cookie
 */
export function failsClosed(session: CommittableSession, status: number): boolean {
  return status >= 500 && session.storeError !== undefined
}

/**
 * The post-handler step of adapters that have a hook before the headers go out (Koa, Fastify, Hono,
 * Web handlers): an untouched session (or one whose headers already left, or a response that
 * answers a store failure: {@link failsClosed}) is only sealed, at zero store calls; otherwise it
 * is committed.
 *
 * @param session - the request's session handle
 * @param headersSent - the response headers already went out
 * @param status - the response status (default 200)
 * @returns the `Set-Cookie` line(s) to add, or `undefined`
 *
 * @example
 * ```ts
 * const cookie = await commitTouched(session, response.headersSent)
 * if (cookie !== undefined) applySessionCookie(response, cookie)
 * ```
 */
export async function commitTouched(
  session: CommittableSession,
  headersSent: boolean,
  status = 200,
): Promise<SessionCookies | undefined> {
  if (headersSent || !session.active || failsClosed(session, status)) {
    session.seal()
    return undefined
  }
  return session.commit()
}

/**
 * @internal The status a framework answers a thrown error with: its `status` or `statusCode`
 * (http-errors, h3's `HTTPError`, `SessionError`), else 500. Not exported from `ruts/adapter`.
 *
 * @param error - what the handler threw
 * @returns the status
 */
export function errorStatus(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown }
  const value = typeof status === 'number' ? status : statusCode
  return typeof value === 'number' ? value : 500
}
