/**
 * Hono 4 middleware: `c.get('session')`, on every runtime Hono runs on.
 *
 * @module ruts/hono
 */
import type { MiddlewareHandler } from 'hono'
import { SessionStoreError } from '../core/errors.js'
import type { SessionLayer } from '../core/layer.js'
import type { Session } from '../core/session.js'
// The types come from the core modules, not through the contract's index, whose declarations also
// name Node's http types: ruts/hono type-checks without @types/node (Workers, Deno, Bun projects).
import { checkLayer, failsClosed, serviceUnavailable, webTransport, withSessionCookie } from './contract/index.js'
import { withoutCookies } from './contract/store-failure.js'

/**
 * The Hono environment {@link session} provides: `new Hono<SessionEnv<Data>>()` types
 * `c.get('session')` (and `c.var.session`) without declaration merging. Combine it with your own
 * bindings as `{ Bindings: B; Variables: SessionEnv<Data>['Variables'] & V }`.
 */
export interface SessionEnv<Data extends object = Record<string, unknown>> {
  Variables: {
    /** The request's session. */
    session: Session<Data>
  }
}

/**
 * Hono 4 middleware: sets the request's {@link Session} as `c.get('session')`. After the handler, the
 * session's pending writes settle and the cookie is appended next to any cookie the handler set.
 * Runs on Node (`@hono/node-server`), Bun, Deno and Workers: Web APIs only.
 *
 * Store failures answer 503: Hono catches a handler's error before this middleware sees it and asks
 * `app.onError`, whose default answers 500, so a `SessionStoreError` answered with 500 gets status
 * 503 (body kept; answer it with a status below 500 in your `onError` to override). Such a response
 * loses every `Set-Cookie` and gets `Cache-Control: no-store`: Hono merges the handler's own headers
 * into what `onError` builds. A failure while committing the cookie, after the handler, is answered
 * here with a plain-text 503 (`no-store`, none of the handler's headers).
 *
 * @param layer - the session layer
 * @returns the middleware
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { SessionLayer, MemoryStore } from 'ruts'
 * import { type SessionEnv, session } from 'ruts/hono'
 *
 * type Data = { count: number }
 * const layer = new SessionLayer<Data>({ store: new MemoryStore() })
 * const app = new Hono<SessionEnv<Data>>()
 * app.use(session(layer))
 * app.get('/', async (c) => {
 *   const count = ((await c.get('session').get('count')) ?? 0) + 1
 *   await c.get('session').update('count', count)
 *   return c.text(`You've visited this page ${count} times`)
 * })
 * ```
 */
export function session<Data extends object = Record<string, unknown>>(
  layer: SessionLayer<Data>,
): MiddlewareHandler<SessionEnv<Data>> {
  checkLayer('session', layer)
  return async function rutsSession(c, next) {
    const handle = layer.open(c.req.header('cookie'), () => webTransport(c.req.url))
    c.set('session', handle)
    await next()
    if (c.error instanceof SessionStoreError && c.res.status >= 500) {
      handle.seal()
      // `onError` built this response with `c.newResponse` or `c.text`, which merge in every header the
      // handler set with `c.header()` / `setCookie()`: its cookies and its caching must not go out.
      const status = c.res.status === 500 ? 503 : c.res.status
      replaceResponse(c, new Response(c.res.body, { status, headers: withoutCookies(c.res.headers) }))
      return
    }
    if (!handle.active || failsClosed(handle, c.res.status)) {
      handle.seal()
      return
    }
    let cookie: string | readonly string[] | undefined
    try {
      cookie = await handle.commit()
    } catch (error) {
      if (!(error instanceof SessionStoreError)) throw error
      // Answered here, not through `onError`: whatever that builds, Hono merges in every header the
      // handler set (`c.header()`, `setCookie()`), cookies and caching included.
      replaceResponse(c, serviceUnavailable())
      return
    }
    if (cookie !== undefined) replaceResponse(c, withSessionCookie(c.res, cookie))
  }
}

/**
 * Hono's `c.res` setter merges the previous response's headers into the new one (and rewrites its
 * `Set-Cookie` list from the old response); clearing it first makes the new response stand as is.
 */
function replaceResponse(c: { res: Response | undefined }, response: Response): void {
  if (response === c.res) return
  c.res = undefined
  c.res = response
}
