import type { ServerResponse } from 'node:http'

/**
 * The `Set-Cookie` list to send: every cookie already set, each still its own header line, then the
 * session cookie. Never joins cookies with commas (a comma is legal inside `Expires`, so a joined
 * header cannot be split back) and never mutates the caller's array.
 *
 * @param existing - the current `Set-Cookie` header value, as Node or a framework holds it
 * @param cookie - the session cookie
 * @returns the full list
 *
 * @example
 * ```ts
 * reply.removeHeader('set-cookie').header('set-cookie', appendSetCookie(reply.getHeader('set-cookie'), cookie))
 * ```
 */
export function appendSetCookie(existing: number | string | readonly string[] | undefined, cookie: string): string[] {
  if (existing === undefined) return [cookie]
  return typeof existing === 'object' ? [...existing, cookie] : [String(existing), cookie]
}

/**
 * Add the session cookie to a Node response, keeping every cookie the handler set (never
 * comma-joined, never duplicated), and mark the response `Cache-Control: no-store`.
 *
 * @param response - the Node response, headers not yet sent
 * @param cookie - the `Set-Cookie` value
 */
export function applySessionCookie(response: ServerResponse, cookie: string): void {
  response.setHeader('Set-Cookie', appendSetCookie(response.getHeader('set-cookie'), cookie))
  response.setHeader('Cache-Control', 'no-store')
}

/**
 * Append the session cookie to a Web `Response`, keeping every `Set-Cookie` the handler set (each its
 * own header, never comma-joined), and mark it `Cache-Control: no-store`. A response with immutable
 * headers (`Response.redirect()`, a `fetch()` result) is copied first.
 *
 * @param response - the handler's response
 * @param cookie - the `Set-Cookie` value
 * @returns `response` itself, or its mutable copy
 */
export function withSessionCookie(response: Response, cookie: string): Response {
  let target = response
  try {
    target.headers.append('set-cookie', cookie)
  } catch {
    // Immutable headers throw on the first change, so nothing was half-applied.
    target = new Response(response.body, response)
    target.headers.append('set-cookie', cookie)
  }
  target.headers.set('cache-control', 'no-store')
  return target
}
