import { type Check, checkOptions, checks, describeValue, optionError } from './validate.js'

/** Longest `Max-Age` a browser honours (RFC 6265bis caps cookie lifetimes at 400 days). */
export const MAX_COOKIE_AGE = 400 * 24 * 60 * 60

/**
 * Options of the session cookie.
 */
export interface CookieOptions {
  /** Cookie name; a `__Host-` or `__Secure-` prefix is validated. @default 'session' */
  name?: string
  /** @default true */
  httpOnly?: boolean
  /** Sent with exactly this value whatever the request scheme. @default true */
  secure?: boolean
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** @default '/' */
  path?: string
  /** @default undefined (host-only cookie) */
  domain?: string
  /** Whole seconds; the session's initial lifetime and the default field TTL. @default 86400 */
  maxAge?: number
  /** Adds the `Partitioned` attribute (CHIPS); requires `secure`. @default false */
  partitioned?: boolean
}

/** Cookie options after defaults and validation. */
export interface ResolvedCookieOptions {
  readonly name: string
  readonly httpOnly: boolean
  readonly secure: boolean
  readonly sameSite: 'lax' | 'strict' | 'none'
  readonly path: string
  readonly domain: string | undefined
  readonly maxAge: number
  readonly partitioned: boolean
  /** The attributes after `Max-Age`, serialized once: `; Path=/; HttpOnly; …`. */
  readonly attributes: string
}

const COOKIE_OPTIONS = {
  name: checks.string,
  httpOnly: checks.boolean,
  secure: checks.boolean,
  sameSite: checks.oneOf('lax', 'strict', 'none'),
  path: checks.string,
  domain: checks.string,
  maxAge: checks.seconds(MAX_COOKIE_AGE),
  partitioned: checks.boolean,
} satisfies Record<keyof CookieOptions, Check>

// express-session's cookie options that have no counterpart here.
const COOKIE_HINTS = {
  expires: 'not supported: a session lifetime is relative; use cookie.maxAge (seconds) or session.expire(seconds)',
  signed: 'set the layer option secret to sign the cookie',
  priority: 'not supported',
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 6265 path-value: any CHAR except CTLs or ";".
const PATH_VALUE = /^[\x20-\x3a\x3c-\x7e]+$/
const DOMAIN_VALUE = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/
const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const

/**
 * Apply defaults and reject every cookie configuration a browser would silently refuse.
 *
 * @param options - user options
 * @returns the resolved options
 * @throws SessionConfigError for an invalid name, attribute value, lifetime or prefix rule
 */
export function resolveCookieOptions(options: CookieOptions = {}): ResolvedCookieOptions {
  if (typeof options.maxAge === 'number' && options.maxAge > MAX_COOKIE_AGE) {
    // express-session's maxAge is in milliseconds: 3_600_000 there is one hour, 41.7 days here.
    const got = `400 days; got ${describeValue(options.maxAge)}`
    const problem = `must be whole seconds from 1 to ${MAX_COOKIE_AGE} (${got}): seconds, not milliseconds`
    throw optionError('SessionLayer', 'cookie.maxAge', problem)
  }
  if (typeof options.secure === 'string') {
    const problem = "must be true or false (got a string): express-session's 'auto' has no counterpart here"
    throw optionError('SessionLayer', 'cookie.secure', problem)
  }
  checkOptions('SessionLayer', options, COOKIE_OPTIONS, { path: 'cookie.', hints: COOKIE_HINTS })
  const name = options.name ?? 'session'
  const httpOnly = options.httpOnly ?? true
  const secure = options.secure ?? true
  const sameSite = options.sameSite ?? 'lax'
  const path = options.path ?? '/'
  const domain = options.domain
  const maxAge = options.maxAge ?? 86_400
  const partitioned = options.partitioned ?? false

  if (!TOKEN.test(name)) throw optionError('SessionLayer', 'cookie.name', 'must be a non-empty HTTP token')
  if (sameSite === 'none' && !secure)
    throw optionError('SessionLayer', 'cookie.sameSite', "'none' requires secure: true")
  if (partitioned && !secure) throw optionError('SessionLayer', 'cookie.partitioned', 'requires secure: true')
  if (!PATH_VALUE.test(path) || !path.startsWith('/')) {
    throw optionError('SessionLayer', 'cookie.path', 'must start with "/" and contain no ";" or control characters')
  }
  if (domain !== undefined && !DOMAIN_VALUE.test(domain)) {
    throw optionError('SessionLayer', 'cookie.domain', 'must be a host name without ";", spaces or control characters')
  }
  // Browsers match the prefixes without regard to case (RFC 6265bis), so `__host-` is held to them too.
  const prefix = name.slice(0, 9).toLowerCase()
  if (prefix.startsWith('__host-')) {
    if (!secure) throw optionError('SessionLayer', 'cookie.secure', 'must be true for a __Host- cookie')
    if (domain !== undefined) throw optionError('SessionLayer', 'cookie.domain', 'must not be set for a __Host- cookie')
    if (path !== '/') throw optionError('SessionLayer', 'cookie.path', 'must be "/" for a __Host- cookie')
  } else if (prefix === '__secure-' && !secure) {
    throw optionError('SessionLayer', 'cookie.secure', 'must be true for a __Secure- cookie')
  }

  let attributes = `; Path=${path}`
  if (domain !== undefined) attributes += `; Domain=${domain}`
  if (httpOnly) attributes += '; HttpOnly'
  if (secure) attributes += '; Secure'
  attributes += `; SameSite=${SAME_SITE[sameSite]}`
  if (partitioned) attributes += '; Partitioned'
  return { name, httpOnly, secure, sameSite, path, domain, maxAge, partitioned, attributes }
}

/**
 * Serialize the session cookie.
 *
 * @param options - resolved options
 * @param value - the (signed) id
 * @param maxAge - whole seconds, already clamped to 1..400 days
 * @returns a `Set-Cookie` header value
 */
export function serializeSessionCookie(options: ResolvedCookieOptions, value: string, maxAge: number): string {
  return `${options.name}=${value}; Max-Age=${maxAge}${options.attributes}`
}

/**
 * Serialize a removal cookie with the same `Path` and `Domain` as the session cookie, so the
 * browser really drops it.
 *
 * @param options - resolved options
 * @returns a `Set-Cookie` header value
 */
export function serializeRemovalCookie(options: ResolvedCookieOptions): string {
  return `${options.name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${options.attributes}`
}

/**
 * Every value of the cookie called exactly `name`, in header order, across one or several
 * `Cookie` headers. Never throws: malformed pairs are skipped. Names match byte for byte (no case
 * folding); only spaces and tabs around pairs are trimmed, as RFC 6265 allows.
 *
 * @param header - the `Cookie` header value(s)
 * @param name - the cookie name
 * @returns the values, possibly empty
 */
export function parseCookieHeader(header: string | readonly string[] | null | undefined, name: string): string[] {
  const values: string[] = []
  if (header == null) return values
  if (typeof header === 'string') collectValues(header, name, values)
  else for (const one of header) if (typeof one === 'string') collectValues(one, name, values)
  return values
}

/**
 * Jumps from one occurrence of `name` to the next (native `indexOf`) and checks each in place: it is
 * a cookie name only when OWS and then `;` (or the header's start) precede it and OWS and `=` follow.
 * Every character is looked at a bounded number of times, so the parse is linear whatever the header
 * holds (searching for `=` from every pair start made `'session' + ';'.repeat(n)` quadratic).
 */
function collectValues(header: string, name: string, values: string[]): void {
  let at = header.indexOf(name)
  while (at !== -1) {
    let before = at - 1
    while (before >= 0 && isOws(header.charCodeAt(before))) before--
    let after = at + name.length
    while (after < header.length && isOws(header.charCodeAt(after))) after++
    if ((before === -1 || header.charCodeAt(before) === SEMICOLON) && header.charCodeAt(after) === EQUALS) {
      let end = header.indexOf(';', after + 1)
      if (end === -1) end = header.length
      values.push(trimOws(header, after + 1, end))
      at = header.indexOf(name, end + 1)
    } else {
      at = header.indexOf(name, at + 1)
    }
  }
}

const SEMICOLON = 0x3b
const EQUALS = 0x3d

function trimOws(text: string, start: number, end: number): string {
  while (start < end && isOws(text.charCodeAt(start))) start++
  while (end > start && isOws(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09
}
