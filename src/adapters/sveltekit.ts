/**
 * SvelteKit 2 `handle` hook: `event.locals.session`. Written against `ruts/adapter`, the contract
 * docs/adapters.md describes.
 *
 * @module ruts/sveltekit
 */

import { type JarCookie, jarCookie } from './contract/cookie-jar.js'
import {
  checkLayer,
  failsClosed,
  type Session,
  type SessionCookies,
  type SessionLayer,
  SessionStoreError,
  serviceUnavailable,
  webTransport,
  withSessionCookie,
} from './contract/index.js'
import { missingMiddleware } from './contract/layer-check.js'
import { withoutCookies } from './contract/store-failure.js'

/** The parts of SvelteKit's `RequestEvent` the hook uses. */
export interface SessionRequestEvent {
  request: Request
  url: URL
  locals: object
  /** A client-side navigation's `__data.json` request (SvelteKit 2). */
  isDataRequest?: boolean
  /** A remote function's call (SvelteKit 2.27+). */
  isRemoteRequest?: boolean
  /** The request's cookie jar: what a redirect SvelteKit answers itself carries. */
  cookies?: {
    set(name: string, value: string, options: JarCookie['options'] & { encode?: (value: string) => string }): void
  }
}

/**
 * The hook {@link session} returns; assignable to SvelteKit's `Handle`, and so usable with
 * `sequence(…)` from `@sveltejs/kit/hooks`.
 */
export type SessionHandle = <Event extends SessionRequestEvent>(input: {
  event: Event
  resolve: (event: Event) => Response | Promise<Response>
}) => Promise<Response>

/**
 * SvelteKit `handle` hook: sets the request's {@link Session} as `event.locals.session` for every
 * `load`, form action and `+server` endpoint. The cookie is added to the response `resolve` returns
 * (pages, endpoints, redirects and action results alike, so a form action that writes and then
 * throws `redirect()` keeps it), next to the cookies set with `event.cookies`; an untouched session
 * costs nothing.
 *
 * SvelteKit answers an unexpected error 500 (after your `handleError`); when the request's session
 * hit a store failure, the hook makes that response a 503 with no session cookie.
 *
 * In a `load`, action or endpoint, {@link sessionOf}`(event, layer)` gives the session typed by the
 * layer; or type `event.locals.session` once in `src/app.d.ts`:
 * `declare global { namespace App { interface Locals { session: Session<Data> } } }`.
 *
 * @param layer - the session layer
 * @returns the hook: `export const handle = session(layer)`, or one step of `sequence(…)`
 *
 * @example
 * ```ts
 * // src/hooks.server.ts
 * import { MemoryStore, SessionLayer } from 'ruts'
 * import { session } from 'ruts/sveltekit'
 *
 * export const handle = session(new SessionLayer({ store: new MemoryStore() }))
 * ```
 */
export function session<Data extends object = Record<string, unknown>>(layer: SessionLayer<Data>): SessionHandle {
  checkLayer('session', layer)
  return async function rutsSession({ event, resolve }) {
    const handle = layer.open(event.request.headers.get('cookie'), () => webTransport(event.url.href))
    ;(event.locals as { session?: Session<Data> }).session = handle
    let response: Response
    try {
      response = await resolve(event)
    } catch (error) {
      // A `redirect()` thrown by a later hook in `sequence(…)`: SvelteKit answers it itself, with the
      // cookies of `event.cookies` only, so the session cookie goes there. (An `error()` thrown by a
      // hook is answered without any of them.)
      if (isRedirect(error) && handle.active && event.cookies !== undefined) {
        let cookie: SessionCookies | undefined
        try {
          cookie = await handle.commit()
        } catch (failure) {
          if (failure instanceof SessionStoreError) return serviceUnavailable()
          throw failure
        }
        for (const line of typeof cookie === 'string' ? [cookie] : (cookie ?? [])) {
          const { name, value, options } = jarCookie(line)
          event.cookies.set(name, value, { ...options, encode: String })
        }
      }
      handle.seal()
      throw error
    }
    if (!handle.active) {
      handle.seal()
      // A load's `event.fetch` to an endpoint of this app copies that request's session cookie onto
      // this response: it must not be cached either.
      return carriesSessionCookie(response, layer.cookie.name) ? noStore(response) : response
    }
    const failed =
      handle.storeError !== undefined && (response.status === 500 || (await reportsFailure(event, response)))
    if (failed) {
      handle.seal()
      return new Response(response.body, { status: 503, headers: withoutCookies(response.headers) })
    }
    if (failsClosed(handle, response.status)) {
      handle.seal()
      return response
    }
    let cookie: SessionCookies | undefined
    try {
      cookie = await handle.commit()
    } catch (error) {
      if (!(error instanceof SessionStoreError)) throw error
      return serviceUnavailable()
    }
    return cookie === undefined ? response : withSessionCookie(response, cookie)
  }
}

/** Whether a response carries a `Set-Cookie` for the session's cookie name. */
function carriesSessionCookie(response: Response, name: string): boolean {
  if (!response.headers.has('set-cookie')) return false
  return response.headers.getSetCookie().some((line) => line.startsWith(`${name}=`))
}

/** The response marked `Cache-Control: no-store` (copied first when its headers are immutable). */
function noStore(response: Response): Response {
  try {
    response.headers.set('cache-control', 'no-store')
    return response
  } catch {
    const copy = new Response(response.body, response)
    copy.headers.set('cache-control', 'no-store')
    return copy
  }
}

/**
 * SvelteKit answers some requests 200 and reports how they went in a JSON body: a client-side
 * navigation's `__data.json` (`{"type":"error"}`, or an error in one of its `nodes`), a remote
 * function's call (`{"type":"error","status":…}`) and a form action submitted with `use:enhance`
 * (`{"type":"failure","status":…}` for a `fail(…)`). Whether that body reports a server error; only
 * read after a store failure in the request, and only its first line (a streamed data response's
 * later chunks may take as long as its slowest promise).
 */
async function reportsFailure(event: SessionRequestEvent, response: Response): Promise<boolean> {
  if (response.status !== 200) return false
  const enhancedAction = event.request.method === 'POST' && event.request.headers.get('x-sveltekit-action') === 'true'
  if (event.isDataRequest !== true && event.isRemoteRequest !== true && !enhancedAction) return false
  // A live remote query streams events (`data: …`), no JSON report: not waited for.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) return false
  try {
    const data = JSON.parse(await firstLine(response.clone())) as {
      type?: unknown
      status?: unknown
      nodes?: Array<{ type?: unknown } | null>
    }
    const serverError = typeof data.status !== 'number' || data.status >= 500
    if (data.type === 'error' || data.type === 'failure') return serverError
    return (data.nodes ?? []).some((node) => node?.type === 'error')
  } catch {
    return false
  }
}

/** The body's text up to its first line break; the rest of the stream is cancelled unread. */
async function firstLine(response: Response): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    text += decoder.decode(value, { stream: true })
    const end = text.indexOf('\n')
    if (end !== -1) {
      void reader.cancel().catch(() => undefined)
      return text.slice(0, end)
    }
  }
}

/** What SvelteKit's `redirect()` throws: a `Redirect` with a 3xx `status` and a `location`. */
function isRedirect(error: unknown): boolean {
  const { status, location } = (error ?? {}) as { status?: unknown; location?: unknown }
  return typeof status === 'number' && status >= 300 && status <= 308 && typeof location === 'string'
}

/**
 * The request's session, typed by the layer's `Data`, without declaring `App.Locals`.
 *
 * @param event - a `load`, action or endpoint event of a request the {@link session} hook ran for
 * @param layer - the layer given to the hook; read only for its type
 * @returns `event.locals.session`
 * @throws SessionConfigError when the hook did not run for this event
 *
 * @example
 * ```ts
 * // src/routes/+page.server.ts
 * import { sessionOf } from 'ruts/sveltekit'
 * import { layer } from '$lib/server/session'
 *
 * export const load = async (event) => ({ count: (await sessionOf(event, layer).get('count')) ?? 0 })
 * ```
 */
export function sessionOf<Data extends object>(event: { locals: object }, layer: SessionLayer<Data>): Session<Data> {
  void layer
  const found = (event.locals as { session?: Session<Data> }).session
  if (found === undefined) throw missingMiddleware('event.locals.session', 'export const handle = session(layer)')
  return found
}
