/**
 * What an adapter behaviour suite server running in another process needs (a Bun or Deno server, a
 * built Next.js or SvelteKit app): the suite's routes, a counting store and its control routes. No
 * vitest import, so a framework's bundler can take it. The test process drives such a server with
 * `remoteStoreControl` from `ruts/testing`.
 *
 * @module ruts/testing/server
 */
import type { SuiteResponse } from './adapter-routes.js'
import type { CountingStore } from './counting-store.js'

export { type SuiteHandler, type SuiteResponse, suiteHandler } from './adapter-routes.js'
export { type CountingStore, countingStore, UNREACHABLE_FIELD } from './counting-store.js'

/** Path prefix of the control routes a suite server answers next to the suite's own routes. */
export const CONTROL_PREFIX = '/__control/'

/**
 * Answer a control route: `reset` clears the counts, `failing?on=1|0` switches fault injection, and
 * every control route answers the counts as JSON.
 *
 * @param store - the suite server's counting store
 * @param url - the request URL, its path under {@link CONTROL_PREFIX}
 * @returns the counts after the action
 *
 * @example
 * ```ts
 * const fetch = (request: Request) => {
 *   const url = new URL(request.url)
 *   return url.pathname.startsWith(CONTROL_PREFIX) ? storeControlResponse(store, url) : app(request)
 * }
 * ```
 */
export function storeControlResponse(store: CountingStore, url: URL): Response {
  if (url.pathname === `${CONTROL_PREFIX}reset`) store.reset()
  if (url.pathname === `${CONTROL_PREFIX}failing`) store.failing = url.searchParams.get('on') === '1'
  return Response.json({ calls: store.calls, total: store.total() })
}

/**
 * Send a {@link SuiteResponse} as a plain Web `Response`. Redirects use `Response.redirect`, whose
 * headers are immutable, so an adapter's copy path is exercised too.
 *
 * @param result - what the suite route asked for
 * @param request - the request, for the redirect's absolute URL
 * @returns the response
 */
export function suiteResponse(result: SuiteResponse, request: Request): Response {
  if (result.redirect !== undefined) return Response.redirect(new URL(result.redirect, request.url), 302)
  const headers = new Headers({ 'content-type': 'application/json' })
  for (const cookie of result.setCookies ?? []) headers.append('set-cookie', cookie)
  return new Response(JSON.stringify(result.json), { headers, status: result.status ?? 200 })
}
