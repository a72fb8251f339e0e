import type { ServerResponse } from 'node:http'
import { type CommittableSession, failsClosed } from './commit.js'
import { applySessionCookie } from './set-cookie.js'

type Deferrable = 'writeHead' | 'write' | 'end' | 'flushHeaders'
type Method = (this: unknown, ...args: unknown[]) => unknown

/** Per response: the session, the methods we shadowed, and the calls held back while committing. */
interface Deferral {
  session: CommittableSession
  onCommitError: ((error: unknown) => void) | undefined
  writeHead: Method
  write: Method
  end: Method
  flushHeaders: Method
  /** Calls held back while the commit runs; `undefined` until the first one. */
  queued: Array<[Deferrable, unknown[]]> | undefined
  /**
   * The commit settled and the held calls were replayed (`replayed`), or it failed and the response
   * was answered 503 (`failed`). A wrapper that kept a stand-in (compression, installed after the
   * session's first use) still calls it: straight through once replayed, dropped once failed.
   */
  settled: 'replayed' | 'failed' | undefined
  /** The commit the first held call started, settled once the calls were replayed or the 503 sent. */
  committing: Promise<void> | undefined
  /**
   * Set by the first held `end`: `writableEnded` as the response held it itself before that `end`
   * made it read `true` (`own`). A response class that keeps it as a field and checks it in `end`
   * (node-mock-http's, which Nitro's in-process fetch uses) gets it back before the replay, or the
   * replayed `end` would do nothing. Node's own responses read it from a getter on their prototype:
   * `own` is `undefined` for them.
   */
  ended: { readonly own: PropertyDescriptor | undefined } | undefined
}

const DEFERRAL = Symbol('ruts.deferral')
/** A response seen through the four methods it may have shadowed. */
type Patched = Record<Deferrable, Method> & { [DEFERRAL]?: Deferral }

// The stand-ins are created once and shared by every response; the per-response state lives in one
// object under a symbol, so an untouched session costs one allocation and four property writes.
const STAND_INS: Record<Deferrable, Method> = {
  writeHead(...args) {
    return intercept(this as ServerResponse, 'writeHead', args)
  },
  write(...args) {
    return intercept(this as ServerResponse, 'write', args)
  },
  end(...args) {
    return intercept(this as ServerResponse, 'end', args)
  },
  flushHeaders(...args) {
    return intercept(this as ServerResponse, 'flushHeaders', args)
  },
}

/**
 * The Node bridge for frameworks without a hook before the headers go out (Express, plain
 * `node:http`): the session cookie is computed when the response headers are about to be
 * flushed, not when the middleware runs. The first `writeHead`/`write`/`end`/`flushHeaders` waits for
 * the session's in-flight operations (so a handler that starts a write and responds at once still
 * sends the right cookie), appends `Set-Cookie` next to any cookie the handler set, then replays the
 * calls in order.
 *
 * An untouched session costs nothing: the calls pass straight through and the handle is sealed.
 *
 * @param session - the request's session handle
 * @param response - the Node response
 * @param onCommitError - called when the commit itself fails (the response becomes a 503)
 *
 * @example
 * ```ts
 * // Express-style middleware: the cookie is decided when the handler responds.
 * const handle = layer.open(req.headers.cookie, () => nodeTransport(req))
 * deferHeadersUntilCommitted(handle, res, (error) => console.error(error))
 * ```
 */
export function deferHeadersUntilCommitted(
  session: CommittableSession,
  response: ServerResponse,
  onCommitError?: (error: unknown) => void,
): void {
  const target = response as unknown as Patched
  target[DEFERRAL] = {
    session,
    onCommitError,
    writeHead: target.writeHead,
    write: target.write,
    end: target.end,
    flushHeaders: target.flushHeaders,
    queued: undefined,
    settled: undefined,
    committing: undefined,
    ended: undefined,
  }
  target.writeHead = STAND_INS.writeHead
  target.write = STAND_INS.write
  target.end = STAND_INS.end
  target.flushHeaders = STAND_INS.flushHeaders
}

function intercept(response: ServerResponse, name: Deferrable, args: unknown[]): unknown {
  const deferral = (response as unknown as Patched)[DEFERRAL] as Deferral
  const { session } = deferral
  if (deferral.settled === 'replayed') return deferral[name].apply(response, args)
  if (deferral.settled === 'failed') return name === 'write' ? false : name === 'flushHeaders' ? undefined : response
  const status = name === 'writeHead' && typeof args[0] === 'number' ? args[0] : response.statusCode
  if (deferral.queued === undefined && (response.headersSent || !session.active || failsClosed(session, status))) {
    session.seal()
    restore(response, deferral)
    return deferral[name].apply(response, args)
  }
  if (deferral.queued === undefined) {
    deferral.queued = [[name, args]]
    deferral.committing = session.commit().then(
      (cookie) => {
        if (cookie !== undefined) {
          adoptWriteHeadHeaders(response, deferral.queued ?? [])
          applySessionCookie(response, cookie)
        }
        settle(response, deferral, 'replayed')
        replay(response, deferral)
      },
      (error: unknown) => {
        settle(response, deferral, 'failed')
        failResponse(response)
        deferral.onCommitError?.(error)
      },
    )
  } else {
    deferral.queued.push([name, args])
  }
  // The handler ended the response: to the framework it is (h3 1 would otherwise answer 404 on top).
  // It stays so (the replayed end makes it true anyway), and is never deleted: a delete would turn
  // the response into a dictionary-mode object for V8, and slow Node's own accesses to responses.
  if (name === 'end' && deferral.ended === undefined) holdEnded(response, deferral)
  return name === 'write' ? true : name === 'flushHeaders' ? undefined : response
}

/**
 * The held-back calls, in order, once the cookie is on the response. Two things a direct call would
 * have met synchronously, in the handler, where the framework catches them, happen here in a promise
 * callback, where nothing would:
 *
 * - a `writeHead` after the headers went out: a wrapper that checks `headersSent` before each `write`
 *   (compression does) queued one per chunk while the headers were held back. Node refuses the
 *   repeats, so they are dropped;
 * - a call that throws (a header value Node refuses): reported with `console.error` (its code, not
 *   its message, which may quote a header), answered 500 with none of the handler's headers while
 *   the headers are not out, the connection closed when they are; never a process ended by an
 *   uncaught error.
 */
function replay(response: ServerResponse, deferral: Deferral): void {
  for (const [name, args] of deferral.queued ?? []) {
    if (name === 'writeHead' && response.headersSent) continue
    try {
      deferral[name].apply(response, args)
    } catch (error) {
      // Thrown where the framework would have caught it and logged it: reported, then answered.
      const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown }
      const what = typeof code === 'string' ? code : typeof name === 'string' ? name : 'an error'
      console.error(`ruts: a response call held back for the session cookie threw (${what}); answered 500`)
      answerPlain(response, 500, 'Internal Server Error')
      return
    }
  }
}

function settle(response: ServerResponse, deferral: Deferral, outcome: 'replayed' | 'failed'): void {
  deferral.settled = outcome
  restore(response, deferral)
  const own = deferral.ended?.own
  if (own !== undefined) Object.defineProperty(response, 'writableEnded', own)
}

/** `writableEnded` reads `true` while the `end` is held (see {@link Deferral.ended}). */
function holdEnded(response: ServerResponse, deferral: Deferral): void {
  const own = Object.getOwnPropertyDescriptor(response, 'writableEnded')
  // A property that cannot be redefined stays as it is: throwing here would throw out of `end`.
  if (own?.configurable === false) return
  deferral.ended = { own }
  Object.defineProperty(response, 'writableEnded', { value: true, configurable: true })
}

/**
 * Headers given to `writeHead` win over those set with `setHeader`: a handler's `Set-Cookie` there
 * would replace the session cookie, and its `Cache-Control` the `no-store`. So they are applied first,
 * the way Node itself merges them (an object: `setHeader` per name; a flat list: its names removed,
 * then each pair appended), and the replayed `writeHead` keeps only its status and message.
 */
function adoptWriteHeadHeaders(response: ServerResponse, queued: Array<[Deferrable, unknown[]]>): void {
  for (const call of queued) {
    if (call[0] !== 'writeHead') continue
    const args = call[1]
    const at = typeof args[1] === 'string' ? 2 : 1
    const headers = args[at]
    if (headers === null || typeof headers !== 'object') continue
    try {
      if (Array.isArray(headers)) {
        const pairs: unknown[] = Array.isArray(headers[0]) ? headers.flat() : headers
        for (let i = 0; i < pairs.length; i += 2) response.removeHeader(String(pairs[i]))
        for (let i = 0; i < pairs.length; i += 2) {
          if (pairs[i]) response.appendHeader(String(pairs[i]), pairs[i + 1] as string | readonly string[])
        }
      } else {
        for (const [name, value] of Object.entries(headers)) {
          if (name && value !== undefined) response.setHeader(name, value as string | number | readonly string[])
        }
      }
    } catch {
      // A header Node refuses: the replayed writeHead throws as it would have without the session.
      continue
    }
    call[1] = args.slice(0, at)
  }
}

/**
 * When the response calls {@link deferHeadersUntilCommitted} held back have gone out: for a caller that
 * reads the response as soon as the framework's handler returns, where a socket would have waited
 * (Nitro's in-process `$fetch` through node-mock-http reads the body it collected, then discards the
 * response).
 *
 * @param response - a Node response, deferred or not
 * @returns a promise settled once the held calls were replayed (or the commit's 503 was sent); at
 *   once when nothing is held back. Never rejects: a commit failure has already answered the response.
 */
export function responseCommitted(response: ServerResponse): Promise<void> {
  const committing = (response as unknown as Patched)[DEFERRAL]?.committing
  return committing === undefined ? Promise.resolve() : committing.then(ignore, ignore)
}

function ignore(): void {}

function restore(response: ServerResponse, deferral: Deferral): void {
  const target = response as unknown as Patched
  target.writeHead = deferral.writeHead
  target.write = deferral.write
  target.end = deferral.end
  target.flushHeaders = deferral.flushHeaders
}

function failResponse(response: ServerResponse): void {
  answerPlain(response, 503, 'Service Unavailable')
}

/** A plain-text answer with none of the handler's headers and `no-store`; a response already started is closed. */
function answerPlain(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  for (const name of response.getHeaderNames()) response.removeHeader(name)
  response.statusCode = status
  response.setHeader('Content-Type', 'text/plain; charset=utf-8')
  response.setHeader('Cache-Control', 'no-store')
  response.end(text)
}
