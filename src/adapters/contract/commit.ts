import type { Session, SessionCookies } from '../../core/session.js'

/**
 * What an adapter needs of a session handle: whether the handler touched it, how to seal it when
 * the headers leave without a commit, and how to commit it for its `Set-Cookie` value. Any
 * `Session<Data>` is one, whatever its `Data`.
 */
export type CommittableSession = Pick<Session, 'active' | 'seal' | 'commit'>

/**
 * The post-handler step of adapters that have a hook before the headers go out (Koa, Fastify, Hono,
 * Web handlers): an untouched session (or one whose headers already left) is only sealed, at zero
 * store calls; otherwise it is committed.
 *
 * @param session - the request's session handle
 * @param headersSent - the response headers already went out
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
): Promise<SessionCookies | undefined> {
  if (headersSent || !session.active) {
    session.seal()
    return undefined
  }
  return session.commit()
}
