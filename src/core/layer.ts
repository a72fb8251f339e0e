import { CandidateReader } from './candidates.js'
import { type Codec, type CodecOption, resolveCodec } from './codec.js'
import { type CookieOptions, MAX_COOKIE_AGE, type ResolvedCookieOptions, resolveCookieOptions } from './cookie.js'
import { SessionConfigError } from './errors.js'
import { LegacyMigration, type LegacySessionSource } from './legacy.js'
import { type FieldSchemasFor, FieldValidation, type InvalidFieldHandler } from './schema.js'
import { Session } from './session.js'
import { CookieSigner } from './signing.js'
import { type ReadOptions, type SessionStore, storeEnforces, type TouchOptions } from './store.js'
import { SubjectSessions } from './subject-sessions.js'
import { type Check, checkOptions, checks, isThenable, optionError } from './validate.js'

/**
 * Options of {@link SessionLayer}.
 *
 * @typeParam Data - the shape of a session; inferred from `fields` when they are given
 */
export interface SessionLayerOptions<Data extends object = Record<string, unknown>> {
  /** Where sessions live. */
  store: SessionStore
  /** Session cookie attributes; see {@link CookieOptions} for the defaults. */
  cookie?: CookieOptions
  /**
   * Sign the cookie with HMAC-SHA256. With a list, the first secret signs and every secret
   * verifies; a cookie signed by an older secret is re-issued with the first.
   * @default undefined (ids are unguessable on their own; signing adds defence in depth)
   */
  secret?: string | readonly string[]
  /** Field value encoding. @default 'msgpack' */
  codec?: CodecOption
  /**
   * Rolling inactivity timeout in seconds: the session lives this long after its last activity.
   * Reads refresh it in the same round trip, throttled by `touchAfter`.
   * @default undefined (lifetime follows `cookie.maxAge` and field TTLs)
   */
  idleTimeout?: number
  /** With `idleTimeout`: refresh only when this many seconds passed since the last refresh. @default ceil(idleTimeout / 10) */
  touchAfter?: number
  /** Hard cap on a session's lifetime from its creation, in seconds. @default undefined */
  absoluteTimeout?: number
  /** Receives one-time configuration warnings (e.g. Secure cookies over plain HTTP). @default console.warn */
  onWarning?: (message: string) => void
  /**
   * Carry sessions another library created over to this layer without logging anybody out, e.g.
   * `legacySessions(…)` from `ruts/express-session` (see docs/migrating-from-express-session.md). A
   * request with no live session here whose legacy cookie names a live legacy session gets a new
   * session holding that data, the first time it touches its session.
   * @default undefined (no legacy cookie is ever looked at)
   */
  legacy?: LegacySessionSource
  /**
   * A [Standard Schema](https://standardschema.dev) per field (Zod, Valibot, ArkType, …). `Data` is
   * then inferred from the schemas' output types; writes are validated before they reach the store
   * (`ERR_SESSION_VALUE` with `error.issues`), reads after decoding (a stored value that no longer
   * validates is absent and reported to `onInvalid`); a field name not listed here is a type error
   * and, at run time, `ERR_SESSION_ARGUMENT`.
   * @default undefined (no validation, any field name)
   */
  fields?: FieldSchemasFor<Data>
  /**
   * With `fields`: what happens when a stored value fails its schema on read. A function is called
   * with the field and the issues, and the field reads as absent; `'throw'` raises
   * `ERR_SESSION_VALUE` instead.
   * @default one `onWarning` per field per layer, and the field reads as absent
   */
  onInvalid?: InvalidFieldHandler
  /**
   * Most live sessions one subject may have: `session.setSubject()` binding one more ends
   * the subject's least recently active sessions beyond it, in the same store call.
   * @default undefined (unlimited)
   */
  maxSessionsPerSubject?: number
  /**
   * Largest encoded value a write may store, in bytes: a larger one is `ERR_SESSION_VALUE` at the
   * call, before any store call. A session is read and written per field, but `getAll` and a Redis or
   * Postgres round trip carry whole values: a value of tens of megabytes would make its session
   * unreadable within the store's timeout. A larger value of a legacy session is left out of the
   * migrated session, with a warning.
   * @default 1048576 (1 MiB)
   */
  maxValueBytes?: number
  /**
   * Most fields one session may hold. A write (`insert`, `update`, an `increment` that creates its
   * field) that would add a field to a session already holding this many live fields changes nothing
   * and fails with `ERR_SESSION_VALUE`; updating, incrementing or removing an existing field never
   * does, and expired fields do not count. The store checks it in the same atomic step as the write,
   * so it holds under concurrent writes (on Postgres, concurrent writes of different new fields may
   * each pass: the session can exceed it by the writes in flight, see docs/postgres.md). With `maxValueBytes` it bounds a session's size (at most
   * `maxFields × maxValueBytes`, and one `getAll`); an app that takes field names from clients
   * should lower both. Enforced only by stores that list `'maxFields'` in their `limits` (every
   * bundled store does). A legacy session migrates its first `maxFields` fields, with a warning.
   * @default 1000
   */
  maxFields?: number
}

/** Where the request came from, for the one-time plain-HTTP `Secure` warning. */
export interface RequestTransport {
  protocol: 'http' | 'https'
  hostname: string
}

/**
 * A {@link RequestTransport}, or a function that computes it. Adapters pass a function: it runs only
 * when a `Secure` cookie is about to go out and the warning has not been given yet, so the common
 * request pays nothing for URL or `Host` parsing.
 */
export type TransportSource = RequestTransport | (() => RequestTransport)

/**
 * The response of a request whose handler can write the headers itself (a Node `ServerResponse`
 * fits): once `headersSent` is true, a session call that needs a new cookie fails with
 * `ERR_SESSION_HEADERS_SENT` instead of writing a session no cookie can reach.
 */
export interface ResponseState {
  readonly headersSent: boolean
}

/** Default of {@link SessionLayerOptions.maxValueBytes}: 1 MiB. */
const DEFAULT_MAX_VALUE_BYTES = 1_048_576

/**
 * Default of {@link SessionLayerOptions.maxFields}: far above what an app writes by name (tens of
 * fields), low enough that a session stuffed by client-chosen names stays one bounded read.
 */
const DEFAULT_MAX_FIELDS = 1000

/**
 * Hosts a browser treats as a secure context over plain HTTP, so a `Secure` cookie is kept there:
 * `localhost` and its subdomains, the IPv4 loopback range and `::1`. Host names are matched without
 * case and without a trailing dot, as browsers do.
 */
function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}

const isStore = ((value) =>
  typeof (value as SessionStore | undefined)?.write === 'function'
    ? undefined
    : isThenable(value)
      ? 'is a promise: await it first (await PostgresStore.create(…))'
      : 'must be a session store, e.g. { store: new MemoryStore() }') as Check

const LAYER_OPTIONS = {
  store: checks.required(isStore),
  cookie: checks.object,
  secret: checks.either(checks.string, (value) => (Array.isArray(value) ? undefined : 'must be a string or a list')),
  codec: checks.either(checks.string, checks.object),
  idleTimeout: checks.seconds(MAX_COOKIE_AGE),
  touchAfter: checks.seconds(MAX_COOKIE_AGE),
  absoluteTimeout: checks.seconds(MAX_COOKIE_AGE),
  onWarning: checks.function,
  legacy: checks.object,
  fields: checks.object,
  onInvalid: checks.either(checks.function, checks.oneOf('throw')),
  maxSessionsPerSubject: checks.positiveInteger,
  maxValueBytes: checks.positiveInteger,
  maxFields: checks.positiveInteger,
} satisfies Record<keyof SessionLayerOptions, Check>

// express-session's options, and the cookie attributes people put at the top level.
const NOT_NEEDED = 'not needed: ruts stores only what a handler writes, when it writes it'
const LAYER_HINTS: Record<string, string> = {
  resave: `${NOT_NEEDED}, so there is no whole session to save again`,
  saveUninitialized: `${NOT_NEEDED}; a session is created by its first write`,
  rolling: 'use idleTimeout (seconds) for a rolling lifetime, and touchAfter to throttle its refresh',
  genid: 'ids are always 128 random bits and cannot be chosen',
  unset: 'call await session.delete() to end a session',
  proxy: 'not needed: the cookie is sent with its configured attributes whatever the scheme',
  maxAge: 'did you mean cookie.maxAge (seconds)?',
  ...Object.fromEntries(
    ['name', 'httpOnly', 'secure', 'sameSite', 'path', 'domain', 'partitioned'].map((key) => [
      key,
      `did you mean cookie.${key}?`,
    ]),
  ),
}

/**
 * The framework-neutral core: holds the store, cookie policy and codec, and opens one
 * {@link Session} handle per request. Adapters (`ruts/express`, `ruts/fastify`, …) only translate
 * between a framework's request/response and {@link SessionLayer.open} / {@link Session.commit}.
 *
 * @typeParam Data - the shape of a session: field names to value types
 *
 * @example
 * ```ts
 * import { SessionLayer, MemoryStore } from 'ruts'
 *
 * type Data = { count: number; user: { id: string } }
 * const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { maxAge: 3600 } })
 * ```
 *
 * @example With field schemas, `Data` is inferred and every value is checked:
 * ```ts
 * import { z } from 'zod'
 *
 * const checked = new SessionLayer({
 *   store: new MemoryStore(),
 *   fields: { count: z.number().int(), user: z.object({ id: z.string() }) },
 * })
 * ```
 */
export class SessionLayer<Data extends object = Record<string, unknown>> {
  /** The store sessions live in. */
  readonly store: SessionStore
  /** Resolved cookie attributes. */
  readonly cookie: ResolvedCookieOptions
  /** The field codec. */
  readonly codec: Codec
  /** Signer when `secret` is set. */
  readonly signer: CookieSigner | undefined
  /** @internal Reads (and remembers) the ids presented in session cookies. */
  readonly candidates: CandidateReader
  /** Lifetime policy in seconds. */
  readonly idleTimeout: number | undefined
  readonly absoluteTimeout: number | undefined
  /** Read-time refresh for `idleTimeout`, or `undefined`. */
  readonly touch: TouchOptions | undefined
  /** @internal What every read passes to the store (built once). */
  readonly readOptions: ReadOptions | undefined
  /** @internal Moves legacy sessions over, when the `legacy` option is set. */
  readonly legacy: LegacyMigration | undefined
  /** @internal The field schemas, when the layer has `fields`. */
  readonly fields: FieldValidation | undefined
  /** Most live sessions per subject, or `undefined` for no limit. */
  readonly maxSessionsPerSubject: number | undefined
  /** Largest encoded value a write may store, in bytes. */
  readonly maxValueBytes: number
  /** Most fields one session may hold (enforced by stores that list `'maxFields'` in `limits`). */
  readonly maxFields: number
  /** @internal `maxFields` when the store enforces it: what every write passes to the store. */
  readonly storeMaxFields: number | undefined
  /**
   * The sessions of a subject, from outside any request: list them, revoke one by its handle, or
   * all of them. Needs a store with the subjects capability (every bundled store).
   *
   * @example
   * ```ts
   * await layer.sessions.revokeAll('user:42') // log out everywhere
   * ```
   */
  readonly sessions: SubjectSessions<Data>
  readonly #onWarning: (message: string) => void
  #warnedInsecure = false

  /**
   * @param options - store, cookie, secret, codec and lifetime policy
   * @throws SessionConfigError when an option is invalid (checked here, never per request)
   */
  constructor(options: SessionLayerOptions<Data>) {
    checkOptions('SessionLayer', options, LAYER_OPTIONS, { hints: LAYER_HINTS })
    this.store = options.store
    this.cookie = resolveCookieOptions(options.cookie)
    this.codec = resolveCodec(options.codec)
    this.signer = options.secret === undefined ? undefined : new CookieSigner(options.secret)
    this.candidates = new CandidateReader(this.signer, this.store.name)
    this.idleTimeout = options.idleTimeout
    this.maxSessionsPerSubject = options.maxSessionsPerSubject
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
    this.maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS
    this.storeMaxFields = storeEnforces(this.store, 'maxFields') ? this.maxFields : undefined
    this.sessions = new SubjectSessions<Data>(this.store)
    this.absoluteTimeout = options.absoluteTimeout
    if (options.idleTimeout !== undefined) {
      const threshold = options.touchAfter ?? Math.ceil(options.idleTimeout / 10)
      if (threshold >= options.idleTimeout) throw optionError('SessionLayer', 'touchAfter', 'must be below idleTimeout')
      this.touch = { ttl: options.idleTimeout, threshold }
    } else {
      if (options.touchAfter !== undefined) throw optionError('SessionLayer', 'touchAfter', 'needs idleTimeout')
      this.touch = undefined
    }
    this.readOptions = this.touch === undefined ? undefined : { touch: this.touch }
    this.#onWarning = options.onWarning ?? ((message) => console.warn(message))
    if (options.maxFields !== undefined && this.storeMaxFields === undefined) {
      this.#onWarning(
        `ruts: maxFields is set but the ${this.store.name} store does not enforce it (its limits do not list 'maxFields')`,
      )
    }
    if (options.legacy !== undefined && typeof options.legacy.find !== 'function') {
      throw optionError(
        'SessionLayer',
        'legacy',
        'takes a legacy session source, e.g. legacySessions({ store, secret })',
      )
    }
    this.legacy = options.legacy === undefined ? undefined : new LegacyMigration(options.legacy, this, this.#onWarning)
    if (options.fields === undefined) {
      if (options.onInvalid !== undefined) throw new SessionConfigError('onInvalid needs fields')
      this.fields = undefined
    } else {
      this.fields = new FieldValidation(options.fields, options.onInvalid, this.#onWarning)
    }
  }

  /**
   * Open the session handle of one request. Costs nothing until the handler touches it: no
   * parsing beyond a substring check, no store call, no cookie.
   *
   * @param cookieHeader - the request's `Cookie` header value(s)
   * @param transport - scheme and host, for the plain-HTTP `Secure` warning
   * @param response - the response, for a framework whose handlers can send its headers themselves
   *   (Koa's `ctx.res`, Fastify's `reply.raw`): a call that would need a new cookie after they went
   *   out fails with `ERR_SESSION_HEADERS_SENT`
   * @returns the request's session handle
   */
  open(
    cookieHeader: string | readonly string[] | null | undefined,
    transport?: TransportSource,
    response?: ResponseState,
  ): Session<Data> {
    return new Session<Data>(this, cookieHeader, transport, response)
  }

  /** @internal Report once that a `Secure` cookie went out over plain HTTP to a non-local host. */
  warnIfInsecure(source: TransportSource | undefined): void {
    if (this.#warnedInsecure || !this.cookie.secure || source === undefined) return
    const transport = typeof source === 'function' ? source() : source
    if (transport.protocol !== 'http' || isLocalHost(transport.hostname)) return
    this.#warnedInsecure = true
    // The host comes from the request's Host header: only host-name characters reach the log line.
    const host = transport.hostname.replace(/[^\w.:[\]-]/g, '?').slice(0, 100)
    this.#onWarning(
      `ruts: the session cookie is Secure but this request came over plain HTTP to ${host}; ` +
        'browsers will not send it back. Serve over HTTPS, trust your proxy (X-Forwarded-Proto), or set cookie.secure: false for local development.',
    )
  }
}
