/**
 * h3 1 and 2 middleware (and so Nuxt and Nitro server routes): `event.context.session`. Written
 * against `ruts/adapter`, the contract docs/adapters.md describes.
 *
 * @module ruts/h3
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  deferHeadersUntilCommitted,
  failsClosed,
  nodeTransport,
  type Session,
  type SessionLayer,
  webTransport,
  withSessionCookie,
} from './contract/index.js'

/** The parts of an h3 v1 event the middleware uses. */
interface H3V1Event {
  context: Record<string, unknown>
  node: { req: IncomingMessage; res: ServerResponse }
}

/** The parts of an h3 v2 event the middleware uses. */
interface H3V2Event {
  context: Record<string, unknown>
  req: Request
  res: { headers: Headers; status?: number }
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
 * Store failures (`SessionStoreError`, `statusCode` 503) take h3's error path and answer 503. To type
 * `event.context.session`, declare it once:
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
      handle.seal()
      throw error
    }
    const status = result instanceof Response ? result.status : (res.status ?? 200)
    if (!handle.active || failsClosed(handle, status)) {
      handle.seal()
      return result
    }
    // A commit failure (SessionStoreError) is thrown to h3's error path, which answers its 503 with
    // none of the handler's headers.
    const cookie = await handle.commit()
    if (cookie === undefined) return result
    // h3 merges event.res.headers into a returned Response only below status 400: add it ourselves.
    if (result instanceof Response) return withSessionCookie(result, cookie)
    for (const line of typeof cookie === 'string' ? [cookie] : cookie) res.headers.append('set-cookie', line)
    res.headers.set('cache-control', 'no-store')
    return result
  }
  return Object.assign(rutsSession, { __is_handler__: true as const })
}
