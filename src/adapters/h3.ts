/**
 * h3 1 and 2 middleware (and so Nuxt and Nitro server routes): `event.context.session`. Written
 * against `ruts/adapter`, the contract docs/adapters.md describes.
 *
 * @module ruts/h3
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorStatus } from './contract/commit.js'
import {
  checkLayer,
  deferHeadersUntilCommitted,
  failsClosed,
  nodeTransport,
  responseCommitted,
  type Session,
  type SessionLayer,
  webTransport,
  withSessionCookie,
} from './contract/index.js'
import { missingMiddleware } from './contract/layer-check.js'

/** The parts of an h3 v1 event the middleware uses. */
interface H3V1Event {
  context: Record<string, unknown>
  node: { req: IncomingMessage; res: ServerResponse }
}

/** The parts of an h3 v2 event the middleware uses. */
interface H3V2Event {
  context: Record<string, unknown>
  req: Request
  /** `errHeaders` (h3 2.0): the headers h3 sends with a response of status 400 or more instead of `headers`. */
  res: { headers: Headers; errHeaders?: Headers; status?: number }
}

/** What h3 v2 marks its own `HTTPResponse` with (a value a handler may return, like a `Response`). */
const H3_RESPONSE = Symbol.for('h3.HTTPResponse')

/** The status a v2 handler's result goes out with. */
function statusOf(result: unknown, res: H3V2Event['res']): number {
  if (result instanceof Response) return result.status
  // h3 answers a returned error as it would a thrown one.
  if (result instanceof Error) return errorStatus(result)
  if ((result as { [H3_RESPONSE]?: unknown } | null | undefined)?.[H3_RESPONSE] === true) {
    return (result as { status?: number }).status ?? 200
  }
  return res.status ?? 200
}

/** The cookie on the headers h3 sends: `headers` below status 400, `errHeaders` from 400 on. */
function appendCookie(res: H3V2Event['res'], cookie: string | readonly string[]): void {
  for (const headers of res.errHeaders === undefined ? [res.headers] : [res.headers, res.errHeaders]) {
    for (const line of typeof cookie === 'string' ? [cookie] : cookie) headers.append('set-cookie', line)
    headers.set('cache-control', 'no-store')
  }
}

/**
 * The middleware {@link session} returns: an h3 v2 middleware (`(event, next)`) that is also an h3 v1
 * event handler (h3 v1 calls it with the event alone and goes on to the next handler).
 */
export type SessionMiddleware = ((event: { context: object }, next?: () => unknown) => Promise<unknown>) & {
  /** Marks it as an event handler for h3 v1, as `defineEventHandler` would. */
  __is_handler__: true
}

/**
 * h3 middleware: sets the request's {@link Session} as `event.context.session`, for every route and
 * Nuxt server route after it. The cookie is added when the response goes out, next to any cookie the
 * handler set; an untouched session costs nothing.
 *
 * - **h3 v2** (`new H3().use(session(layer))`): the cookie is appended to the handler's `Response`,
 *   or to `event.res.headers` when the handler returns a value for h3 to serialize.
 * - **h3 v1** (`createApp().use(session(layer))`, Nuxt 3): on Node, through the shared Node bridge,
 *   as the Express adapter does.
 *
 * Store failures (`SessionStoreError`, `statusCode` 503) take h3's error path and answer 503. In a
 * handler, {@link sessionOf}`(event, layer)` gives the session typed by the layer; or type
 * `event.context.session` once for the whole app:
 * `declare module 'h3' { interface H3EventContext { session: Session<Data> } }`.
 *
 * @param layer - the session layer
 * @returns the middleware, for `app.use(…)` or a Nuxt `server/middleware/session.ts` default export
 *
 * @example
 * ```ts
 * import { H3, serve } from 'h3'
 * import { MemoryStore, type Session, SessionLayer } from 'ruts'
 * import { session } from 'ruts/h3'
 *
 * type Data = { count: number }
 * declare module 'h3' {
 *   interface H3EventContext {
 *     session: Session<Data>
 *   }
 * }
 * const layer = new SessionLayer<Data>({ store: new MemoryStore() })
 * const app = new H3().use(session(layer))
 * app.get('/', async (event) => {
 *   const count = ((await event.context.session.get('count')) ?? 0) + 1
 *   await event.context.session.update('count', count)
 *   return { count }
 * })
 * serve(app, { port: 3000 })
 * ```
 */
export function session<Data extends object = Record<string, unknown>>(layer: SessionLayer<Data>): SessionMiddleware {
  checkLayer('session', layer)
  async function rutsSession(event: { context: object }, next?: () => unknown): Promise<unknown> {
    if (next === undefined) {
      const { context, node } = event as H3V1Event
      const handle = layer.open(node.req.headers.cookie, () => nodeTransport(node.req))
      context.session = handle
      deferHeadersUntilCommitted(handle, node.res)
      return undefined
    }
    const { context, req, res } = event as H3V2Event
    const handle = layer.open(req.headers.get('cookie'), () => webTransport(req.url))
    context.session = handle
    let result: unknown
    try {
      result = await next()
    } catch (error) {
      // A thrown error the handler answers with a client error (a login that failed validation after
      // regenerating) still carries the cookie: the old id is gone. Not a store failure's 5xx.
      if (!handle.active || failsClosed(handle, errorStatus(error))) {
        handle.seal()
        throw error
      }
      const cookie = await handle.commit()
      if (cookie !== undefined) appendCookie(res, cookie)
      throw error
    }
    if (!handle.active || failsClosed(handle, statusOf(result, res))) {
      handle.seal()
      return result
    }
    // A commit failure (SessionStoreError) is thrown to h3's error path, which answers its 503 with
    // none of the handler's headers.
    const cookie = await handle.commit()
    if (cookie === undefined) return result
    // h3 merges event.res.headers into a returned Response only below status 400: add it ourselves.
    if (result instanceof Response) return withSessionCookie(result, cookie)
    appendCookie(res, cookie)
    return result
  }
  return Object.assign(rutsSession, { __is_handler__: true as const })
}

/**
 * The request's session, typed by the layer's `Data`, without declaring `H3EventContext`.
 *
 * @param event - the h3 event (v1 or v2) of a request {@link session} ran for
 * @param layer - the layer given to {@link session}; read only for its type
 * @returns `event.context.session`
 * @throws SessionConfigError when the middleware did not run for this event
 *
 * @example
 * ```ts
 * app.get('/', async (event) => {
 *   const session = sessionOf(event, layer)
 *   const count = ((await session.get('count')) ?? 0) + 1
 *   await session.update('count', count)
 *   return { count }
 * })
 * ```
 */
export function sessionOf<Data extends object>(event: { context: object }, layer: SessionLayer<Data>): Session<Data> {
  void layer
  const found = (event.context as { session?: Session<Data> }).session
  if (found === undefined) throw missingMiddleware('event.context.session', 'app.use(session(layer))')
  return found
}

/**
 * Settles once the session's cookie and the response it held back have gone out (h3 v1 on Node);
 * at once otherwise. With h3 v1 the session holds `res.end` back until its commit, so the response is
 * complete only after the app's handler returned: a caller that reads it right then, such as Nitro's
 * in-process fetch (server-side `useFetch` and `$fetch` of your own API routes in Nuxt), would read an
 * empty body. {@link nitroPlugin} awaits it where Nitro's h3 app lets it.
 *
 * @param event - the h3 event (v1 or v2)
 * @returns a promise that never rejects (a failed commit has already answered 503)
 */
export function untilCommitted(event: { node?: { res?: ServerResponse } }): Promise<void> {
  const response = event.node?.res
  return response === undefined ? Promise.resolve() : responseCommitted(response)
}

/** An h3 v1 event as Nitro 2 passes it to its hooks. */
type NitroEvent = { node?: { res?: ServerResponse } }

/** The parts of a Nitro 2 app (`NitroApp`) {@link nitroPlugin} uses. */
export interface NitroAppLike {
  hooks: { hook(name: 'afterResponse', handler: (event: NitroEvent) => void | Promise<void>): unknown }
  h3App?: { options: { onError?: ((error: never, event: never) => unknown) | undefined } }
}

/**
 * The Nitro plugin of {@link session} (Nuxt 3 and 4, Nitro 2): Nitro's in-process fetches
 * (server-side `useFetch` and `$fetch` of the app's own routes) read a response as soon as h3's handler
 * returns, so the handler must not return before the session's held-back response went out. It waits
 * for {@link untilCommitted} in Nitro's `afterResponse` hook, which h3 awaits after a route answered,
 * and after Nitro's error handler, which h3 awaits instead of that hook when a route threw.
 *
 * @param nitroApp - the app Nitro passes to a plugin
 *
 * @example
 * ```ts
 * // server/plugins/session.ts
 * import { nitroPlugin } from 'ruts/h3'
 *
 * export default defineNitroPlugin(nitroPlugin)
 * ```
 */
export function nitroPlugin(nitroApp: NitroAppLike): void {
  nitroApp.hooks.hook('afterResponse', untilCommitted)
  const options = nitroApp.h3App?.options
  if (options === undefined) return
  const answer = options.onError as ((error: unknown, event: NitroEvent) => unknown) | undefined
  options.onError = (async (error: unknown, event: NitroEvent) => {
    try {
      await answer?.(error, event)
    } finally {
      await untilCommitted(event)
    }
  }) as (error: never, event: never) => unknown
}
