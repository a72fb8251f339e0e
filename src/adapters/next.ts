/**
 * Next.js App Router (Node runtime): `withSession` for Route Handlers, `getSession` for Server Actions
 * and Server Components. Written against `ruts/adapter`, the contract docs/adapters.md describes.
 *
 * @module ruts/next
 */
import { cookies, headers } from 'next/headers'
import { jarAttributes } from './contract/cookie-jar.js'
import { checkLayer, parseCookieHeader, type Session, SessionError, type SessionLayer } from './contract/index.js'
import { type SessionRequestHandler, type WithSessionOptions, withSession as withWebSession } from './web.js'

export type { SessionRequestHandler, WithSessionOptions }

/**
 * Wrap a Route Handler so it receives the request's {@link Session}, as `withSession` from `ruts/web`
 * does: the handler's writes settle, then the session cookie is appended to its `Response`. One more
 * case is Next's own: `redirect()` and `permanentRedirect()` throw, and Next would answer them itself
 * without the session cookie. When the handler used its session and throws one, the redirect is
 * answered here, as Next answers it (same status, 303 for a form's POST, same `Location`, the
 * handler's `cookies()` changes merged in by Next), with the session cookie and `Cache-Control: no-store`: a login that wrote or
 * regenerated and then redirects keeps its user signed in. (`notFound()`, `forbidden()` and
 * `unauthorized()` answer without any cookie the handler set, so they send none either.)
 *
 * @param layer - the session layer (create it once, in a module of its own)
 * @param handler - the Route Handler, with the session as its second argument
 * @param options - how to answer store failures (default 503, no cookie)
 * @returns the Route Handler to export as `GET`, `POST`, …
 *
 * @example
 * ```ts
 * // app/api/count/route.ts
 * import { withSession } from 'ruts/next'
 * import { layer } from '@/lib/session'
 *
 * export const POST = withSession(layer, async (_request, session) =>
 *   Response.json({ count: await session.increment('count') }),
 * )
 * ```
 */
export function withSession<Data extends object = Record<string, unknown>>(
  layer: SessionLayer<Data>,
  handler: SessionRequestHandler<Data>,
  options: WithSessionOptions = {},
): (request: Request) => Promise<Response> {
  const withRedirects: SessionRequestHandler<Data> = async (request, session) => {
    try {
      return await handler(request, session)
    } catch (error) {
      // Answered here as Next would (its cookies() changes are merged into a returned Response too),
      // so the cookie goes out on the normal path: with `no-store` and any legacy cookie's removal.
      const redirect = session.active ? nextRedirect(error) : undefined
      if (redirect === undefined) throw error
      // Next answers 303 to what may be a form's POST, so the browser does not post it again.
      const status = mayBeServerAction(request) ? 303 : redirect.status
      return new Response(null, { status, headers: { location: redirect.location } })
    }
  }
  return withWebSession(layer, withRedirects, options)
}

/** Next's own test (`getIsPossibleServerAction`): a POST of a form, or one naming a Server Action. */
function mayBeServerAction(request: Request): boolean {
  if (request.method !== 'POST') return false
  const type = request.headers.get('content-type')
  return (
    request.headers.has('next-action') ||
    type === 'application/x-www-form-urlencoded' ||
    (type?.startsWith('multipart/form-data') ?? false)
  )
}

/**
 * What Next's `redirect()` and `permanentRedirect()` throw: an error whose `digest` is
 * `NEXT_REDIRECT;<type>;<url>;<status>;` (the URL may itself hold `;`).
 */
function nextRedirect(error: unknown): { status: number; location: string } | undefined {
  const digest = (error as { digest?: unknown } | null | undefined)?.digest
  if (typeof digest !== 'string') return undefined
  const parts = digest.split(';')
  const status = Number(parts.at(-2))
  const location = parts.slice(2, -2).join(';')
  if (parts[0] !== 'NEXT_REDIRECT' || !(status >= 300 && status <= 308) || location === '') return undefined
  return { status, location }
}

type CookieJar = Awaited<ReturnType<typeof cookies>>
type SessionMethod = (...args: unknown[]) => unknown

/** One handle per request and layer: every `getSession` call of a render or an action shares it. */
const open = new WeakMap<CookieJar, Map<object, object>>()

/**
 * The request's {@link Session} in a Server Action, a Server Component or a Route Handler, read and
 * written through `cookies()` from `next/headers`. Every call in one request returns the same handle.
 *
 * - **Server Actions and Route Handlers**: each session call that changes the cookie sets it with
 *   `cookies().set()` before its promise resolves, so a `redirect()` after `await session.update(…)`
 *   keeps it. Await every session call before the action returns.
 * - **Server Components** (Next forbids setting cookies while rendering): reads work, and so does a
 *   write to an existing session's field; a write that needs a new cookie (creating the session,
 *   `regenerate()`, `delete()`, `expire()`) rejects with `ERR_SESSION_HEADERS_SENT` before touching
 *   the store.
 *
 * @param layer - the session layer (create it once, in a module of its own)
 * @returns the request's session
 *
 * @example
 * ```ts
 * 'use server'
 * import { redirect } from 'next/navigation'
 * import { getSession } from 'ruts/next'
 * import { layer } from './session'
 *
 * export async function login(form: FormData) {
 *   const session = await getSession(layer)
 *   await session.update('user', String(form.get('name')))
 *   await session.regenerate()
 *   redirect('/')
 * }
 * ```
 */
export async function getSession<Data extends object>(layer: SessionLayer<Data>): Promise<Session<Data>> {
  checkLayer('getSession', layer)
  // Both awaited before the lookup: two calls racing in one render must find each other's handle.
  const [jar, requestHeaders] = await Promise.all([cookies(), headers()])
  let sessions = open.get(jar)
  if (sessions === undefined) {
    sessions = new Map()
    open.set(jar, sessions)
  }
  const known = sessions.get(layer) as Session<Data> | undefined
  if (known !== undefined) return known
  const handle = nextSession(layer, jar, requestHeaders)
  sessions.set(layer, handle)
  return handle
}

type RequestHeaders = Awaited<ReturnType<typeof headers>>

/**
 * The raw `Cookie` header keeps every session cookie the browser sent, and the layer reads it as
 * every other adapter does (the first well-formed value wins, so a cookie planted after the real one
 * cannot replace it). Next's jar keeps one value per name, the *last* one, decoded. So the jar is
 * used only when this request changed the cookie (after an action sets it, the render that follows
 * sees the new value only in the jar): when its value is none of those the browser sent.
 */
function cookieHeader(jar: CookieJar, requestHeaders: RequestHeaders, name: string): string | undefined {
  const current = jar.get(name)?.value
  const raw = requestHeaders.get('cookie') ?? undefined
  if (current === undefined) return raw
  const sent = parseCookieHeader(raw, name)
  return sent.some((value) => value === current || decoded(value) === current) ? raw : `${name}=${current}`
}

/** A cookie value as Next's jar decodes it (`decodeURIComponent`, the raw text when that fails). */
function decoded(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function nextSession<Data extends object>(
  layer: SessionLayer<Data>,
  jar: CookieJar,
  requestHeaders: RequestHeaders,
): Session<Data> {
  const session = layer.open(cookieHeader(jar, requestHeaders, layer.cookie.name), () => ({
    // `next start` sets X-Forwarded-Proto from the connection when no proxy did.
    protocol: requestHeaders.get('x-forwarded-proto') === 'https' ? 'https' : 'http',
    hostname: (requestHeaders.get('host') ?? '').replace(/:\d+$/, ''),
  }))
  // Rendering gets a read-only RequestCookies jar (it has clear(); set() throws); Server Actions and
  // Route Handlers get a ResponseCookies jar, which has no clear(). Decided up front, so a write that
  // cannot deliver its cookie fails before it reaches the store.
  if ('clear' in jar) {
    session.seal()
    return readOnly(session)
  }
  let sent: string | undefined
  const deliver = async <T>(value: T): Promise<T> => {
    const cookie = await session.flush()
    if (cookie === undefined || `${cookie.value};${cookie.maxAge}` === sent) return value
    sent = `${cookie.value};${cookie.maxAge}`
    jar.set(layer.cookie.name, cookie.value, jarAttributes(layer.cookie, cookie))
    return value
  }
  // prepareRegenerate() (the one synchronous method) takes effect at the next awaited call.
  return intercept(session, (call) => {
    const result = call()
    return result instanceof Promise ? result.then(deliver) : result
  })
}

function readOnly<Data extends object>(session: Session<Data>): Session<Data> {
  const explain = (error: unknown): never => {
    // By code, not class: Next bundles a copy of ruts per route, and the layer may come from another.
    if ((error as Partial<SessionError> | undefined)?.code !== 'ERR_SESSION_HEADERS_SENT') throw error
    throw new SessionError(
      'ERR_SESSION_HEADERS_SENT',
      'a Server Component cannot set cookies, so this session write cannot be delivered: write the session in a Server Action or a Route Handler',
      { cause: error },
    )
  }
  return intercept(session, (call) => {
    let result: unknown
    try {
      result = call() // prepareRegenerate() throws at once
    } catch (error) {
      explain(error)
    }
    return result instanceof Promise ? result.catch(explain) : result
  })
}

/** The session with every method call made through `around` (private fields need the real `this`). */
function intercept<Data extends object>(
  session: Session<Data>,
  around: (call: () => unknown) => unknown,
): Session<Data> {
  return new Proxy(session, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => around(() => (value as SessionMethod).apply(target, args))
    },
  })
}
