/**
 * Koa 2 and 3 middleware: `ctx.session`, the cookie added after the downstream middleware.
 *
 * @module ruts/koa
 */
import type { DefaultState, Middleware, ParameterizedContext } from 'koa'
import { errorStatus } from './contract/commit.js'
import {
  appendSetCookie,
  applySessionCookie,
  checkLayer,
  commitTouched,
  type Session,
  type SessionLayer,
} from './contract/index.js'

/**
 * The context properties {@link session} adds. Use it as Koa's context type parameter, no declaration
 * merging needed: `new Koa<DefaultState, SessionContext<Data>>()`, or
 * `Koa.ParameterizedContext<State, SessionContext<Data>>` for a handler defined on its own.
 */
export interface SessionContext<Data extends object = Record<string, unknown>> {
  /** The request's session. */
  session: Session<Data>
}

/**
 * Koa 2 and 3 middleware: puts the request's {@link Session} on `ctx.session`. Once the downstream
 * middleware finished (Koa writes the response only after that), it waits for the session's pending
 * writes and adds the cookie next to any cookie the handler set. Store failures reach Koa's error
 * path as `SessionStoreError` (`status` 503).
 *
 * `app.use(session(layer))` also types `ctx.session` for the middleware chained after it.
 *
 * @param layer - the session layer
 * @returns the middleware
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { SessionLayer, MemoryStore } from 'ruts'
 * import { session } from 'ruts/koa'
 *
 * const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
 * const app = new Koa().use(session(layer)).use(async (ctx) => {
 *   const count = ((await ctx.session.get('count')) ?? 0) + 1
 *   await ctx.session.update('count', count)
 *   ctx.body = `You've visited this page ${count} times`
 * })
 * ```
 */
export function session<Data extends object = Record<string, unknown>, State = DefaultState>(
  layer: SessionLayer<Data>,
): Middleware<State, SessionContext<Data>> {
  checkLayer('session', layer)
  return async function rutsSession(ctx: ParameterizedContext<State, SessionContext<Data>>, next) {
    // With ctx.respond = false the handler writes ctx.res itself: its headers going out seal the handle.
    const handle = layer.open(
      ctx.headers.cookie,
      () => ({ protocol: ctx.protocol === 'https' ? 'https' : 'http', hostname: ctx.hostname }),
      ctx.res,
    )
    ctx.session = handle
    try {
      await next()
    } catch (error) {
      // A thrown client error (a login that failed validation after regenerating) still carries the
      // cookie, or the user is signed out: the old id is gone. Not with a store failure's 5xx.
      const cookie = await commitTouched(handle, ctx.headerSent, errorStatus(error))
      if (cookie !== undefined) {
        applySessionCookie(ctx.res, cookie) // kept by an error-handling middleware of the app
        // Koa's own error path clears every header and then sets the error's `headers`: it gets this
        // request's cookie on a copy, never on the error itself (the same error object may be thrown
        // by other requests).
        const onerror = ctx.onerror
        ctx.onerror = (reached: Error) => onerror.call(ctx, withCookieHeaders(reached, cookie))
      }
      throw error
    }
    // `ctx.respond = false` or a handler writing `ctx.res` itself may have flushed the headers.
    const cookie = await commitTouched(handle, ctx.headerSent, ctx.status)
    if (cookie !== undefined) applySessionCookie(ctx.res, cookie)
  }
}

/**
 * The error Koa's `ctx.onerror` reached, seen through an object whose own `headers` add the session
 * cookie: it inherits everything else (status, message, expose, its class), and the error itself is
 * left as it was.
 */
function withCookieHeaders(error: Error, cookie: string | readonly string[]): Error {
  // Koa passes what was thrown, which need not be an object.
  if (error === null || typeof error !== 'object') return error
  const headers: Record<string, unknown> = { ...((error as { headers?: Record<string, unknown> }).headers ?? {}) }
  const existing = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie')
  const earlier = existing === undefined ? undefined : headers[existing]
  if (existing !== undefined) delete headers[existing]
  headers['Set-Cookie'] = appendSetCookie(earlier as string | string[] | undefined, cookie)
  headers['Cache-Control'] = 'no-store'
  return Object.create(error, { headers: { value: headers, enumerable: true } }) as Error
}
