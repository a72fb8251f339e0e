/**
 * Express 4 and 5 middleware: `req.session`, the cookie decided when the headers go out.
 *
 * @module ruts/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { onFirstUse } from '../core/session.js'
import {
  checkLayer,
  deferHeadersUntilCommitted,
  nodeTransport,
  type Session,
  type SessionLayer,
} from './contract/index.js'
import { missingMiddleware } from './contract/layer-check.js'

/** Express' route parameters of a request (`req.params`) when the route path does not type them. */
type AnyParams = Request['params']

/**
 * An Express request after `session(layer)` ran: `req.session` is typed by the layer's `Data`, and
 * `req.params` by the route (`Params`).
 */
export type SessionRequest<Data extends object = Record<string, unknown>, Params = AnyParams> = Request<Params> & {
  session: Session<Data>
}

/** A route handler that receives a {@link SessionRequest}. */
export type SessionHandler<Data extends object, Params = AnyParams> = (
  req: SessionRequest<Data, Params>,
  res: Response,
  next: NextFunction,
) => unknown

/** The middleware returned by {@link session}. */
export interface SessionMiddleware<Data extends object> extends RequestHandler {
  /**
   * Wrap a handler so `req.session` is typed without declaration merging, and a rejected promise
   * goes to `next(err)` (Express 4 does not do that on its own).
   *
   * @param handler - the route handler
   * @returns an Express handler; type `req.params` with the generic, as Express' own
   *   `RequestHandler<Params>` does: `app.get('/items/:id', sessions.route<{ id: string }>(…))`
   */
  route<Params = AnyParams>(handler: SessionHandler<Data, Params>): RequestHandler<Params>
}

/**
 * Express 4 and 5 middleware: puts the request's {@link Session} on `req.session`. The cookie is
 * decided when the headers are flushed, after the session's pending writes settle. Store failures
 * reach Express's error path as `SessionStoreError` (status 503).
 *
 * @param layer - the session layer
 * @returns the middleware, with a typed `route()` helper
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { SessionLayer, MemoryStore } from 'ruts'
 * import { session } from 'ruts/express'
 *
 * const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
 * const sessions = session(layer)
 * const app = express()
 * app.use(sessions)
 * app.get('/', sessions.route(async (req, res) => {
 *   const count = ((await req.session.get('count')) ?? 0) + 1
 *   await req.session.update('count', count)
 *   res.send(`You've visited this page ${count} times`)
 * }))
 * ```
 */
export function session<Data extends object = Record<string, unknown>>(
  layer: SessionLayer<Data>,
): SessionMiddleware<Data> {
  checkLayer('session', layer)
  const middleware = function rutsSession(req: Request, res: Response, next: NextFunction): void {
    const handle = layer.open(req.headers.cookie, () => ({
      protocol: req.protocol === 'https' ? 'https' : 'http',
      hostname: req.hostname ?? nodeTransport(req).hostname,
    }))
    ;(req as SessionRequest<Data>).session = handle
    // The response's methods are shadowed only once the handler uses the session: shadowing them
    // cost every request ~20 µs on Express 5 / Node 20, whether or not it touched its session
    // (docs/bench.md). A session first used after the headers went out is sealed, as it would be at
    // the response's end: a call that needs a new cookie fails with ERR_SESSION_HEADERS_SENT.
    onFirstUse(handle, () => {
      if (res.headersSent) handle.seal()
      else deferHeadersUntilCommitted(handle, res)
    })
    next()
  } as SessionMiddleware<Data>
  middleware.route = <Params>(handler: SessionHandler<Data, Params>): RequestHandler<Params> =>
    function rutsSessionRoute(req, res, next) {
      if ((req as { session?: unknown }).session === undefined) {
        return next(missingMiddleware('req.session', 'app.use(sessions) before this route'))
      }
      try {
        Promise.resolve(handler(req as SessionRequest<Data, Params>, res, next)).catch(next)
      } catch (error) {
        next(error)
      }
    }
  return middleware
}
