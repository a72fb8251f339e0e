/**
 * Web `Request → Response` handlers (`Bun.serve`, `Deno.serve`, Next.js route handlers, Workers):
 * {@link withSession} passes the request's session to the handler.
 *
 * @module ruts/web
 */
import { SessionStoreError } from '../core/errors.js'
import type { SessionLayer } from '../core/layer.js'
import type { Session } from '../core/session.js'
import type { Check } from '../core/validate.js'
// The types come from the core modules, not through the contract's index, whose declarations also
// name Node's http types: ruts/web type-checks without @types/node (Workers, Deno, Bun projects).
import {
  checkLayer,
  checkOptions,
  checks,
  failsClosed,
  serviceUnavailable,
  webTransport,
  withSessionCookie,
} from './contract/index.js'

/** A Web handler that receives the request's {@link Session}. */
export type SessionRequestHandler<Data extends object = Record<string, unknown>> = (
  request: Request,
  session: Session<Data>,
) => Response | Promise<Response>

/** Options of {@link withSession}. */
export interface WithSessionOptions {
  /**
   * Answer a store failure (`SessionStoreError`, from the handler or while committing). Other errors
   * are rethrown to the runtime's own error path.
   * @default a plain-text `503 Service Unavailable` with `Cache-Control: no-store` and no cookie
   */
  onStoreError?: (error: SessionStoreError, request: Request) => Response | Promise<Response>
}

const WITH_SESSION_OPTIONS = { onStoreError: checks.function } satisfies Record<keyof WithSessionOptions, Check>

/**
 * Wrap a Web `Request → Response` handler (Next.js route handlers, `Bun.serve`, `Deno.serve`,
 * Cloudflare-style `fetch`) so it receives the request's {@link Session}. After the handler returns,
 * the session's pending writes settle and the session cookie is appended to the response's own
 * `Set-Cookie` headers. An untouched session costs no store call and no cookie.
 *
 * Uses only Web APIs (plus `node:crypto` in the core, which Bun and Deno provide). From `node:http`,
 * serve it through `@hono/node-server`: `createServer(getRequestListener(handler))`.
 *
 * @param layer - the session layer
 * @param handler - the handler
 * @param options - how to answer store failures
 * @returns a `(request) => Promise<Response>` handler
 *
 * @example
 * ```ts
 * import { SessionLayer, MemoryStore } from 'ruts'
 * import { withSession } from 'ruts/web'
 *
 * const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
 * const handler = withSession(layer, async (request, session) => {
 *   const count = ((await session.get('count')) ?? 0) + 1
 *   await session.update('count', count)
 *   return Response.json({ count })
 * })
 * Bun.serve({ fetch: handler })        // or Deno.serve(handler), or `export const GET = handler`
 * ```
 */
export function withSession<Data extends object = Record<string, unknown>>(
  layer: SessionLayer<Data>,
  handler: SessionRequestHandler<Data>,
  options: WithSessionOptions = {},
): (request: Request) => Promise<Response> {
  checkLayer('withSession', layer)
  checkOptions('withSession', options, WITH_SESSION_OPTIONS)
  const onStoreError = options.onStoreError ?? serviceUnavailable
  return async function rutsSession(request) {
    const session = layer.open(request.headers.get('cookie'), () => webTransport(request.url))
    try {
      const response = await handler(request, session)
      if (!session.active || failsClosed(session, response.status)) {
        session.seal()
        return response
      }
      const cookie = await session.commit()
      return cookie === undefined ? response : withSessionCookie(response, cookie)
    } catch (error) {
      session.seal()
      if (error instanceof SessionStoreError) return onStoreError(error, request)
      throw error
    }
  }
}
