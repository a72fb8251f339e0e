import type { ServerResponse } from 'node:http'
import type { Session, SessionCookies } from '../../core/session.js'

/**
 * The `Set-Cookie` list to send: every cookie already set, each still its own header line, then the
 * session's line(s). Never joins cookies with commas (a comma is legal inside `Expires`, so a joined
 * header cannot be split back) and never mutates the caller's array.
 *
 * @param existing - the current `Set-Cookie` header value, as Node or a framework holds it
 * @param cookie - what {@link Session.commit} resolved to: one line, or several
 * @returns the full list
 *
 * @example
 * ```ts
 * reply.removeHeader('set-cookie').header('set-cookie', appendSetCookie(reply.getHeader('set-cookie'), cookie))
 * ```
 */
export function appendSetCookie(
  existing: number | string | readonly string[] | undefined,
  cookie: SessionCookies,
): string[] {
  const lines = typeof cookie === 'string' ? [cookie] : cookie
  if (existing === undefined) return [...lines]
  return typeof existing === 'object' ? [...existing, ...lines] : [String(existing), ...lines]
}

/**
 * Add the session cookie to a Node response, keeping every cookie the handler set (never
 * comma-joined, never duplicated), and mark the response `Cache-Control: no-store`.
 *
 * @param response - the Node response, headers not yet sent
 * @param cookie - what {@link Session.commit} resolved to: one `Set-Cookie` line, or several
 */
export function applySessionCookie(response: ServerResponse, cookie: SessionCookies): void {
  response.setHeader('Set-Cookie', appendSetCookie(response.getHeader('set-cookie'), cookie))
  response.setHeader('Cache-Control', 'no-store')
}

/**
 * Append the session cookie to a Web `Response`, keeping every `Set-Cookie` the handler set (each its
 * own header, never comma-joined), and mark it `Cache-Control: no-store`. A response with immutable
 * headers (`Response.redirect()`, a `fetch()` result) is copied first.
 *
 * @param response - the handler's response
 * @param cookie - what {@link Session.commit} resolved to: one `Set-Cookie` line, or several
 * @returns `response` itself, or its mutable copy
 */
export function withSessionCookie(response: Response, cookie: SessionCookies): Response {
  const lines = typeof cookie === 'string' ? [cookie] : cookie
  let target = response
  try {
    target.headers.append('set-cookie', lines[0] as string)
  } catch {
    // Immutable headers throw on the first change, so nothing was half-applied.
    target = new Response(response.body, response)
    target.headers.append('set-cookie', lines[0] as string)
  }
  for (let index = 1; index < lines.length; index++) target.headers.append('set-cookie', lines[index] as string)
  target.headers.set('cache-control', 'no-store')
  return target
}
