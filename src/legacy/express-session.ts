/**
 * Switching from express-session without logging anybody out: {@link legacySessions} reads the
 * sessions an express-session app left in its store, for the layer's `legacy` option. Other libraries
 * can be bridged the same way by implementing `LegacySessionSource` from `ruts`.
 *
 * @module ruts/express-session
 */
import { MAX_CANDIDATES } from '../core/candidates.js'
import { parseCookieHeader } from '../core/cookie.js'
import { SessionConfigError, SessionError } from '../core/errors.js'
import type { LegacyFields, LegacySession, LegacySessionSource } from '../core/legacy.js'
import { DEFAULT_STORE_TIMEOUT, runWithTimeout } from '../core/timeout.js'
import { ExpressSessionSigner } from './express-session-signing.js'

/**
 * What ruts needs of an express-session store: callback-style `get` and `destroy`, as every
 * express-session store implements them (connect-redis, connect-pg-simple, connect-mongo, …). A
 * migration reads the store the old app wrote to, so it must be shared: express-session's built-in
 * `MemoryStore` fits the interface, but its sessions ended with the old processes.
 */
export interface ExpressSessionStore {
  get(sid: string, callback: (error: unknown, session?: object | null) => void): unknown
  destroy(sid: string, callback?: (error?: unknown) => void): unknown
}

/** Options of {@link legacySessions}. */
export interface LegacySessionsOptions {
  /** The express-session app's store, connected to the same backend. */
  store: ExpressSessionStore
  /**
   * The express-session app's `secret`, or its list (every one verifies). Accepted at any length: it
   * only verifies legacy cookies and never signs anything.
   */
  secret: string | readonly string[]
  /** The express-session cookie name. @default 'connect.sid' */
  name?: string
  /**
   * Turns the stored session into fields. Return only what this app should keep.
   * @default every top-level property except `cookie` becomes a field of the same name
   */
  map?: (data: Record<string, unknown>) => LegacyFields
  /** Where the legacy cookie lived, so that its removal cookie matches it. @default { path: '/' } */
  cookie?: { path?: string; domain?: string; secure?: boolean }
  /** Per-call timeout of the legacy store, in milliseconds. @default 2000 */
  timeout?: number
  /** How long this process keeps answering repeat legacy cookies with the migrated session, in ms. @default 10000 */
  graceMs?: number
  /**
   * The express-session app ran with `rolling: true`. Its browser cookie was then refreshed on every
   * response, while the session kept in the store was rewritten only when it changed (a `touch` moves
   * only the store's own expiry): the `cookie.expires` stored with it can be days behind the browser's.
   * With this set, a session the store still holds is live whatever that stored date says, and its
   * migrated lifetime is the full `cookie.maxAge` from now, as the old app's next response would have
   * given it. @default false
   */
  rolling?: boolean
}

const DEFAULT_NAME = 'connect.sid'

/**
 * A legacy session source for sessions an express-session app stored: pass it as the layer's `legacy`
 * option while you switch. A request with no live ruts session whose `connect.sid` cookie is correctly
 * signed and whose session the store still holds gets a new ruts session with that data, a removal
 * cookie for the old one, and the old session is destroyed when the response commits the new cookie.
 *
 * @param options - the express-session store, its secret(s), cookie name and optional field mapping
 * @returns the source to pass as `legacy`
 * @throws SessionConfigError for a missing store or secret or an invalid cookie name or attribute
 *
 * @example
 * ```ts
 * import { RedisStore as ConnectRedisStore } from 'connect-redis'
 * import { createClient } from 'redis'
 * import { SessionLayer } from 'ruts'
 * import { legacySessions } from 'ruts/express-session'
 * import { RedisStore } from 'ruts/redis'
 *
 * const client = createClient()
 * await client.connect()
 * const layer = new SessionLayer({
 *   store: new RedisStore({ client }),
 *   legacy: legacySessions({ store: new ConnectRedisStore({ client }), secret: 'keyboard cat' }),
 * })
 * ```
 */
export function legacySessions(options: LegacySessionsOptions): LegacySessionSource {
  const { store, map = fieldsOf, timeout = DEFAULT_STORE_TIMEOUT } = options ?? {}
  if (typeof store?.get !== 'function' || typeof store.destroy !== 'function') {
    throw new SessionConfigError('legacySessions needs the express-session store (with get and destroy)')
  }
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new SessionConfigError('legacySessions timeout must be a whole number of milliseconds ≥ 1')
  }
  if (options.graceMs !== undefined && (!Number.isSafeInteger(options.graceMs) || options.graceMs < 0)) {
    throw new SessionConfigError('legacySessions graceMs must be a whole number of milliseconds ≥ 0')
  }
  if (options.rolling !== undefined && typeof options.rolling !== 'boolean') {
    throw new SessionConfigError('legacySessions rolling must be true or false')
  }
  const rolling = options.rolling === true
  const name = options.name ?? DEFAULT_NAME
  const signer = new ExpressSessionSigner(options.secret)
  const removalCookie = removalCookieOf(name, options.cookie ?? {})
  /** The session the store holds for `sid`, with its cookie's expiry; `undefined` when it has none. */
  const loadSession = async (sid: string): Promise<LegacySession | undefined> => {
    const data = await runWithTimeout('express-session', 'get', timeout, () => legacyCall(store, 'get', sid))
    if (data == null || typeof data !== 'object') return undefined
    const expiresAt = rolling ? rollingExpiry(data) : cookieExpiry(data)
    if (expiresAt !== undefined && expiresAt <= Date.now()) return undefined
    const fields: unknown = map(data as Record<string, unknown>)
    // A Map, a class instance or a string would carry over no field, or fields "0", "1", …: the
    // legacy session would be destroyed with its data left behind.
    if (!isPlainObject(fields)) {
      throw new SessionError('ERR_SESSION_VALUE', 'legacySessions: map must return a plain object of fields')
    }
    return { fields, expiresAt }
  }
  const source: LegacySessionSource = {
    cookieName: name,
    removalCookie,
    find(cookieHeader) {
      return source.findAll?.(cookieHeader)[0]
    },
    findAll(cookieHeader) {
      // As for ruts' own cookie: the first MAX_CANDIDATES signed-looking values only, so a header
      // full of forged ones costs at most that many HMACs per secret, and the legacy store at most
      // that many reads.
      const sids: string[] = []
      let verified = 0
      for (const value of parseCookieHeader(cookieHeader, name)) {
        const sid = signer.unsign(value)
        if (typeof sid === 'string' && !sids.includes(sid)) sids.push(sid)
        if (sid !== false && ++verified === MAX_CANDIDATES) break
      }
      return sids
    },
    async load(sid) {
      return (await loadSession(sid))?.fields
    },
    loadSession,
    async destroy(sid) {
      await runWithTimeout('express-session', 'destroy', timeout, () => legacyCall(store, 'destroy', sid))
    },
  }
  if (options.graceMs !== undefined) return { ...source, graceMs: options.graceMs }
  return source
}

/** The default mapping: each top-level property a field, express-session's `cookie` dropped. */
function fieldsOf(data: Record<string, unknown>): LegacyFields {
  const fields: LegacyFields = {}
  for (const field of Object.keys(data)) {
    if (field !== 'cookie') Object.defineProperty(fields, field, { value: data[field], enumerable: true })
  }
  return fields
}

/**
 * When the session's browser cookie expires (epoch ms), from the `cookie.expires` express-session
 * keeps in the session (a `Date`, or its JSON string); `undefined` for a browser-session cookie.
 */
function cookieExpiry(data: object): number | undefined {
  const expires = (data as { cookie?: { expires?: unknown } }).cookie?.expires
  if (typeof expires !== 'string' && !(expires instanceof Date)) return undefined
  const at = new Date(expires).getTime()
  return Number.isFinite(at) ? at : undefined
}

/**
 * For a rolling session: now plus the cookie's `maxAge` (`originalMaxAge`, in ms), the expiry the old
 * app's next response would have set; `undefined` for a browser-session cookie.
 */
function rollingExpiry(data: object): number | undefined {
  const maxAge = (data as { cookie?: { originalMaxAge?: unknown } }).cookie?.originalMaxAge
  return typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge > 0 ? Date.now() + maxAge : undefined
}

/**
 * Call a callback-style store method. A store that returns a promise instead is followed too; for
 * `get` only a promise that carries a value (object or `null`) counts, because stores that take the
 * callback often resolve with whatever it returned (connect-redis 9: `undefined`) — reading that
 * as "no session" would log the user out. The store's error is replaced by one that names only its
 * class and code: a store's message may quote the key, and the key holds the session id.
 */
function legacyCall(store: ExpressSessionStore, method: 'get' | 'destroy', sid: string): Promise<object | null> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(redacted(error))
    try {
      const returned = store[method](sid, (error: unknown, session?: object | null) =>
        error ? fail(error) : resolve(session ?? null),
      )
      if (returned !== null && typeof (returned as Promise<unknown>)?.then === 'function') {
        ;(returned as Promise<object | null | undefined>).then((session) => {
          if (method === 'destroy' || session !== undefined) resolve(session ?? null)
        }, fail)
      }
    } catch (error) {
      fail(error)
    }
  })
}

function redacted(error: unknown): Error {
  const name = error instanceof Error ? error.name : typeof error
  const code = (error as { code?: unknown } | null)?.code
  const cause = new Error(`${name}${typeof code === 'string' ? ` (${code})` : ''} from the express-session store`)
  cause.name = name
  if (typeof code === 'string') Object.assign(cause, { code })
  return cause
}

const PATH_VALUE = /^\/[\x20-\x3a\x3c-\x7e]*$/
const DOMAIN_VALUE = /^\.?[A-Za-z0-9.-]+$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function removalCookieOf(name: string, cookie: { path?: string; domain?: string; secure?: boolean }): string {
  const { path = '/', domain } = cookie
  if (!TOKEN.test(name)) throw new SessionConfigError('legacySessions name must be a cookie name token')
  if (!PATH_VALUE.test(path)) throw new SessionConfigError('legacySessions cookie.path must start with "/"')
  if (domain !== undefined && !DOMAIN_VALUE.test(domain)) {
    throw new SessionConfigError('legacySessions cookie.domain must be a host name')
  }
  // A prefixed cookie can only be replaced by a Secure one.
  const prefix = name.slice(0, 9).toLowerCase()
  const secure = cookie.secure ?? (prefix === '__secure-' || prefix.startsWith('__host-'))
  return (
    `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=${path}` +
    `${domain === undefined ? '' : `; Domain=${domain}`}; HttpOnly${secure ? '; Secure' : ''}`
  )
}

function isPlainObject(value: unknown): value is LegacyFields {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
