import type { Candidate } from './candidates.js'
import { MAX_COOKIE_AGE, parseCookieHeader, serializeRemovalCookie, serializeSessionCookie } from './cookie.js'
import { publishSessionEvent } from './diagnostics.js'
import { headersSent, SessionError, type SessionStoreError } from './errors.js'
import { checkField } from './fields.js'
import { createSessionId, sessionKeyOf } from './ids.js'
import type { SessionLayer, TransportSource } from './layer.js'
import type { LegacyMigration } from './legacy.js'
import { SessionMap } from './session-map.js'
import type { BindOptions, FieldValue, LiveSession, PlacementOptions, SessionKey, WriteOptions } from './store.js'
import { listSessions, publishRevoked, revokeSessions, subjectStore } from './subject-sessions.js'
import { checkSubject, encodeMeta, type SessionInfo } from './subject-values.js'
import { callStore } from './timeout.js'
import { isTtl, ttlError } from './ttl.js'
import { type SessionWriteOptions, storeWriteOptions } from './write-options.js'

const MAX_COLLISION_RETRIES = 3

/** Set by the class's static block: reads a handle's private candidate keys (see {@link currentKeysOf}). */
let currentKeys: (session: Session<never>) => SessionKey[]

/** The field TTL of a write call: its `ttl`, or the cookie's `maxAge`. */
function fieldTtlOf(options: { ttl?: number } | undefined, maxAge: number): number {
  const fieldTtl = options?.ttl ?? maxAge
  if (!isTtl(fieldTtl)) throw ttlError('ttl')
  return fieldTtl
}

/** The session cookie a response must send, as {@link Session.flush} reports it. */
export interface OutgoingCookie {
  /** The cookie value: the (signed) id, or `''` to remove the cookie. */
  value: string
  /** Whole seconds; `0` removes the cookie. */
  maxAge: number
}

/**
 * What {@link Session.commit} resolves to when a cookie changes: one `Set-Cookie` line (the usual
 * case), or several when a legacy cookie is removed as well. Each line is its own header; never join
 * them with commas.
 */
export type SessionCookies = string | readonly string[]

/** Names of the fields of `Data` that can hold a number, the fields `increment` accepts. */
export type IntegerField<Data extends object> = {
  [K in keyof Data & string]-?: number extends Data[K] ? K : never
}[keyof Data & string]

/**
 * The session of one request. Every method goes straight to the store for the one field it names
 * (no load/save of the whole session), so concurrent requests touching different fields never lose
 * each other's writes. Operations on one handle run in call order.
 *
 * Obtain it from an adapter (`req.session`, `ctx.session`, `c.get('session')`, …) or
 * {@link SessionLayer.open}.
 *
 * @typeParam Data - field names to value types
 *
 * @example
 * ```ts
 * import { MemoryStore, SessionLayer } from 'ruts'
 *
 * type Data = { user: { id: string }; visits: number }
 * const layer = new SessionLayer<Data>({ store: new MemoryStore() })
 * const session = layer.open(request.headers.get('cookie')) // adapters do this for you
 * const visits = ((await session.get('visits')) ?? 0) + 1
 * await session.update('visits', visits) // creates the session on first write
 * const setCookie = await session.commit() // adapters do this too, when the headers go out
 * ```
 */
export class Session<Data extends object = Record<string, unknown>> {
  readonly #layer: SessionLayer<Data>
  readonly #header: string | readonly string[] | null | undefined
  readonly #transport: TransportSource | undefined
  /** Presented ids in cookie order; the first is the current session. `undefined` until parsed. */
  #candidates: Candidate[] | undefined
  /** The first candidate is known to be live (confirmed by the store or created here). */
  #confirmed = false
  #presentedCookie = false
  #prepared: string | undefined
  /** What the response must say about the cookie. */
  #outgoing: 'none' | 'set' | 'clear' = 'none'
  #ttl = 0
  /** Field bytes read or written in this request (`undefined` = known to be absent); created on first use. */
  #cache: Map<string, FieldValue | undefined> | undefined
  /** The last queued operation, while any is pending; operations run one after another in call order. */
  #tail: Promise<unknown> | undefined
  #pending = 0
  #sealed = false
  #active = false
  #commit: Promise<SessionCookies | undefined> | undefined
  #storeError: SessionStoreError | undefined
  /** The legacy cookie was looked at (with the layer's `legacy` option): at most once per request. */
  #legacyChecked = false
  /** The response must also remove the legacy cookie. */
  #clearLegacy = false
  /** The current session's subject, once a store call in this request told it (or bound it). */
  #subject: { value: string | undefined } | undefined

  static {
    currentKeys = (session) => session.#currentKeys()
  }

  /** @internal Use {@link SessionLayer.open}. */
  constructor(
    layer: SessionLayer<Data>,
    header: string | readonly string[] | null | undefined,
    transport?: TransportSource,
  ) {
    this.#layer = layer
    this.#header = header
    this.#transport = transport
  }

  /**
   * The id this request refers to: the presented id until a store call shows it is not live, or
   * the id created, regenerated or prepared in this request; `undefined` after `delete()`.
   *
   * @example
   * ```ts
   * res.setHeader('X-Session', session.id === undefined ? 'none' : 'present') // never log the id itself
   * ```
   */
  get id(): string | undefined {
    return this.#prepared ?? this.#parse()[0]?.id
  }

  /**
   * @param field - field name
   * @returns the decoded value, or `undefined` when the field is missing or expired or there is no
   *   session. Repeated reads of a field in one request cost one store call.
   *
   * @example
   * ```ts
   * const user = await session.get('user') // Data['user'] | undefined
   * if (user === undefined) return res.status(401).end()
   * ```
   */
  get<K extends keyof Data & string>(field: K): Promise<Data[K] | undefined> {
    this.#checkField(field)
    return this.#run(async () => {
      const cache = this.#cache
      if (cache?.has(field)) return (await this.#read(field, cache.get(field))) as Data[K] | undefined
      const read = await this.#onLive('get', (key) => this.#layer.store.get(key, field, this.#layer.readOptions))
      if (read === undefined) return undefined
      this.#remember(field, read.value)
      return (await this.#read(field, read.value)) as Data[K] | undefined
    })
  }

  /**
   * @returns every live field, decoded lazily, or `undefined` when there is no session
   *
   * @example
   * ```ts
   * const all = await session.getAll()
   * res.json(all?.toObject() ?? {})
   * ```
   */
  getAll(): Promise<SessionMap<Data> | undefined> {
    return this.#run(async () => {
      const read = await this.#onLive('getAll', (key) => this.#layer.store.getAll(key, this.#layer.readOptions))
      if (read === undefined) return undefined
      for (const [field, bytes] of read.fields) this.#remember(field, bytes)
      return new SessionMap<Data>(read.fields, this.#layer.codec, this.#layer.fields)
    })
  }

  /**
   * Write only if the field does not exist. Creates the session when there is none.
   *
   * @param field - field name
   * @param value - a value the codec can round-trip
   * @param options - field TTL (and options the store declares, e.g. the layered store's)
   * @returns `true` if written, `false` if the field already existed (nothing changed)
   *
   * @example
   * ```ts
   * // Remember where the visitor first came from; later requests never overwrite it.
   * await session.insert('landing', req.path, { ttl: 30 * 86_400 })
   * ```
   */
  insert<K extends keyof Data & string>(field: K, value: Data[K], options?: SessionWriteOptions): Promise<boolean> {
    return this.#write(field, value, options, 'insert')
  }

  /**
   * Write whether or not the field exists (upsert). Creates the session when there is none.
   *
   * @param field - field name
   * @param value - a value the codec can round-trip
   * @param options - field TTL (and options the store declares, e.g. the layered store's)
   * @returns `true` on success
   *
   * @example
   * ```ts
   * await session.update('cart', [...cart, item])
   * await session.update('otp', code, { ttl: 300 }) // this field alone expires in 5 minutes
   * ```
   */
  update<K extends keyof Data & string>(field: K, value: Data[K], options?: SessionWriteOptions): Promise<boolean> {
    return this.#write(field, value, options, 'update')
  }

  /**
   * Atomically add `by` to an integer field (a missing or expired field counts as 0) and return the
   * new value, in one store round trip: concurrent increments never lose a count. Creates the
   * session when there is none. `options.ttl` sets the field's expiry only when this call creates
   * the field; an existing field keeps its expiry, so a counter can be a fixed window.
   *
   * @param field - field name
   * @param by - a safe integer, may be negative
   * @default by 1
   * @param options - `ttl`: the field's TTL in seconds when this call creates it (default the cookie `maxAge`)
   * @returns the field's new value
   * @throws SessionError `ERR_SESSION_VALUE` when the field holds something other than a safe
   *   integer, or the sum would leave the safe range (nothing changes); `ERR_SESSION_UNSUPPORTED`
   *   when the store or the codec cannot do it
   *
   * @example
   * ```ts
   * const visits = await session.increment('visits')
   * // A fixed window: the first attempt starts it, later ones keep its expiry.
   * const attempts = await session.increment('attempts', 1, { ttl: 60 })
   * if (attempts > 5) throw new Error('too many attempts, wait a minute')
   * ```
   */
  async increment<K extends IntegerField<Data>>(field: K, by = 1, options?: { ttl?: number }): Promise<number> {
    this.#checkField(field)
    if (!Number.isSafeInteger(by)) throw new SessionError('ERR_SESSION_ARGUMENT', 'by must be a safe integer')
    const layer = this.#layer
    const fieldTtl = fieldTtlOf(options, layer.cookie.maxAge)
    const store = layer.store
    const format = layer.codec.integerFormat
    if (store.increment === undefined || format === undefined) {
      const what = format === undefined ? `the ${layer.codec.name} codec` : `the ${store.name} store`
      throw new SessionError('ERR_SESSION_UNSUPPORTED', `increment() is not supported by ${what}`)
    }
    const increment = store.increment.bind(store)
    const result = await this.#place('increment', fieldTtl, (key, placement) =>
      increment(key, field, { ...placement, by, format }),
    )
    if (result.status === 'invalid') {
      this.#cache?.delete(field)
      throw new SessionError(
        'ERR_SESSION_VALUE',
        `increment(): the field does not hold a safe integer, or the sum would leave the safe range`,
      )
    }
    this.#remember(field, layer.codec.encode(result.value))
    // A schema checks the sum like a written value; the store has already added (it cannot ask the
    // schema inside its atomic step), so a rejected sum is stored and reported.
    const fields = layer.fields
    return fields === undefined ? result.value : ((await fields.forWrite(field, result.value)) as number)
  }

  /**
   * Atomically read and delete one field, in one store round trip: of any number of concurrent
   * `take`s of a field, exactly one receives its value (flash messages, one-time tokens).
   *
   * @param field - field name
   * @returns the decoded value, or `undefined` when the field is missing or expired or there is no session
   * @throws SessionError `ERR_SESSION_UNSUPPORTED` when the store cannot do it
   *
   * @example
   * ```ts
   * await session.update('flash', 'Welcome back!')
   * // on the next page:
   * const flash = await session.take('flash') // 'Welcome back!' once, then undefined
   * ```
   */
  take<K extends keyof Data & string>(field: K): Promise<Data[K] | undefined> {
    this.#checkField(field)
    const store = this.#layer.store
    if (store.take === undefined) {
      return Promise.reject(
        new SessionError('ERR_SESSION_UNSUPPORTED', `take() is not supported by the ${store.name} store`),
      )
    }
    const take = store.take.bind(store)
    return this.#run(async () => {
      const read = await this.#onLive('take', (key) => take(key, field))
      this.#remember(field, undefined)
      return (await this.#read(field, read?.value)) as Data[K] | undefined
    })
  }

  /**
   * Delete one field. A missing field is a no-op and never ends the session.
   *
   * @param field - field name
   * @returns `true` if the field existed
   *
   * @example
   * ```ts
   * await session.remove('cart') // the rest of the session stays
   * ```
   */
  remove(field: keyof Data & string): Promise<boolean> {
    this.#checkField(field)
    return this.#run(async () => {
      const result = await this.#onLive('remove', (key) => this.#layer.store.remove(key, field))
      this.#remember(field, undefined)
      return result?.removed ?? false
    })
  }

  /**
   * Delete the whole session, send a removal cookie and forget the id. A later write in the same
   * request starts a fresh session with a fresh id.
   *
   * @returns `true` if a live session was deleted
   *
   * @example
   * ```ts
   * // Log out: the session is gone from the store and the browser gets a removal cookie.
   * await session.delete()
   * ```
   */
  delete(): Promise<boolean> {
    const sealed = this.#sealed
    return this.#run(async () => {
      if (sealed && this.#parse().length > 0) throw headersSent('delete()')
      let deleted = false
      for (const candidate of this.#parse()) {
        if (await this.#call('delete', () => this.#layer.store.delete(candidate.key))) {
          deleted = true
          break
        }
        if (this.#confirmed) break
      }
      if (!deleted && this.#legacyPending()) {
        // Through the migration, not a bare destroy: a parallel request may have migrated this legacy
        // session already, and a logout must end that copy too.
        const migrated = await this.#fromLegacy()
        if (migrated !== undefined) deleted = await this.#call('delete', () => this.#layer.store.delete(migrated.key))
      }
      if (deleted) publishSessionEvent('deleted', this.#layer.store.name)
      this.#forget()
      if (this.#presentedCookie || this.#outgoing === 'set') this.#outgoing = 'clear'
      return deleted
    })
  }

  /**
   * Move all data and TTLs to a fresh id atomically and re-issue the cookie (do it on login).
   *
   * @returns the new id, or `undefined` when there is no session
   *
   * @example
   * ```ts
   * // Log in: a new id, so an id planted before login (session fixation) is worthless.
   * await session.update('user', { id: user.id })
   * await session.regenerate()
   * ```
   */
  regenerate(): Promise<string | undefined> {
    const sealed = this.#sealed
    return this.#run(async () => {
      if (sealed && this.#parse().length > 0) throw headersSent('regenerate()')
      this.#prepared = undefined
      return this.#moveTo(createSessionId())
    })
  }

  /**
   * Choose the next id now: the next `insert`/`update` in this request writes under it, moving the
   * existing data in the same atomic step. If no write consumes it, the move happens when the
   * response is sent.
   *
   * @returns the id the session will have
   *
   * @example
   * ```ts
   * // One store call instead of two: the write moves the session to the new id as it writes.
   * session.prepareRegenerate()
   * await session.update('user', { id: user.id })
   * ```
   */
  prepareRegenerate(): string {
    if (this.#sealed) throw headersSent('prepareRegenerate()')
    this.#active = true
    this.#prepared = createSessionId()
    return this.#prepared
  }

  /**
   * Bind this session to a subject, typically the id of the user who just logged in (SPEC §13). A
   * different subject than the session had (none → X, X → Y) moves the session to a fresh id in the
   * same atomic store call, data and TTLs included, and re-issues the cookie: a login is this one
   * call, and an id planted before it is worthless. The same subject again only replaces `meta`. On
   * a request without a session it creates one, bound. One store call.
   *
   * With the layer's `maxSessionsPerSubject`, binding one more session ends the subject's least
   * recently active sessions beyond the limit.
   *
   * @param subject - 1–256 characters; kept out of errors, events and traces
   * @param options - `meta`: a plain JSON object of at most 1 KB shown in {@link SessionInfo}
   *   (the device, say); default `{}`
   * @throws SessionError `ERR_SESSION_ARGUMENT` for a bad subject, `ERR_SESSION_VALUE` for bad meta,
   *   `ERR_SESSION_UNSUPPORTED` when the store has no subjects capability
   *
   * @example
   * ```ts
   * // Log in: one call binds the session to the user and gives it a new id.
   * await session.setSubject(`user:${user.id}`, { meta: { device: req.get('user-agent') ?? 'unknown' } })
   * ```
   */
  async setSubject(subject: string, options: { meta?: Readonly<Record<string, unknown>> } = {}): Promise<void> {
    checkSubject(subject)
    const meta = encodeMeta(options.meta ?? {})
    const layer = this.#layer
    const store = subjectStore(layer.store, 'setSubject()')
    const maxSessions = layer.maxSessionsPerSubject
    await this.#place('bind', layer.cookie.maxAge, async (key, placement) => {
      const bind: BindOptions = { session: placement.session, subject, meta, sessionTtl: placement.sessionTtl }
      if (placement.renameFrom !== undefined) bind.renameFrom = placement.renameFrom
      if (placement.maxLifetime !== undefined) bind.maxLifetime = placement.maxLifetime
      if (maxSessions !== undefined) bind.maxSessions = maxSessions
      const result = await store.bind(key, bind)
      if (result.status === 'bound' || result.status === 'kept') {
        this.#subject = { value: subject }
        publishRevoked(store.name, result.ended)
      }
      return result
    })
  }

  /**
   * @returns the subject this session is bound to, or `undefined` (no session, or not bound). One
   *   store call, the first time in a request.
   * @throws SessionError `ERR_SESSION_UNSUPPORTED` when the store has no subjects capability
   *
   * @example
   * ```ts
   * const subject = await session.getSubject()
   * if (subject === undefined) return res.redirect('/login')
   * ```
   */
  async getSubject(): Promise<string | undefined> {
    subjectStore(this.#layer.store, 'getSubject()')
    return this.#run(() => this.#currentSubject())
  }

  /**
   * The live sessions of this session's subject, this one marked `current: true` (a "your devices"
   * page). `[]` when the session is not bound. Two store calls at most (the subject, once per
   * request, and the list).
   *
   * @returns the subject's sessions, most recently active first
   * @throws SessionError `ERR_SESSION_UNSUPPORTED` when the store has no subjects capability
   *
   * @example
   * ```ts
   * const devices = await session.listSiblings()
   * res.json(devices.map(({ handle, meta, lastActiveAt, current }) => ({ handle, meta, lastActiveAt, current })))
   * ```
   */
  async listSiblings(): Promise<SessionInfo[]> {
    const store = subjectStore(this.#layer.store, 'listSiblings()')
    return this.#run(async () => {
      const subject = await this.#currentSubject()
      if (subject === undefined) return []
      return listSessions(store, subject, this.#currentKeys(), (operation, call) => this.#call(operation, call))
    })
  }

  /**
   * End every other session of this session's subject ("sign out everywhere else"); this one stays.
   * Two store calls at most (the subject, once per request, and the revocation).
   *
   * @returns how many sessions it ended (`0` when this session is not bound)
   * @throws SessionError `ERR_SESSION_UNSUPPORTED` when the store has no subjects capability
   *
   * @example
   * ```ts
   * const ended = await session.revokeOthers()
   * res.send(`Signed out ${ended} other device(s)`)
   * ```
   */
  async revokeOthers(): Promise<number> {
    const store = subjectStore(this.#layer.store, 'revokeOthers()')
    return this.#run(async () => {
      const subject = await this.#currentSubject()
      const key = this.#parse()[0]?.key
      if (subject === undefined || key === undefined) return 0
      return revokeSessions(store, subject, { except: key }, (operation, call) => this.#call(operation, call))
    })
  }

  /** The current session's subject: remembered, or one `subjectOf` call (which confirms the session). */
  async #currentSubject(): Promise<string | undefined> {
    if (this.#subject !== undefined) return this.#subject.value
    const store = subjectStore(this.#layer.store, 'getSubject()')
    const read = await this.#onLive('subject', (key) => store.subjectOf(key))
    this.#subject = { value: read?.subject }
    return read?.subject
  }

  /**
   * The keys that may be this request's session, in the order the request would pick them: the
   * confirmed one, or every presented candidate (the first live one is the session).
   */
  #currentKeys(): SessionKey[] {
    const candidates = this.#parse()
    return (this.#confirmed ? candidates.slice(0, 1) : candidates).map((candidate) => candidate.key)
  }

  /**
   * Set the session's remaining lifetime (shorten or lengthen); `0` deletes the session.
   *
   * @param seconds - whole seconds, ≥ 0
   * @returns `true` if the session exists
   *
   * @example
   * ```ts
   * // "Remember me": keep this session 30 days instead of the cookie's default lifetime.
   * if (rememberMe) await session.expire(30 * 86_400)
   * ```
   */
  expire(seconds: number): Promise<boolean> {
    if (!isTtl(seconds, 0)) return Promise.reject(ttlError('expire()', 0))
    if (seconds === 0) return this.delete()
    const sealed = this.#sealed
    return this.#run(async () => {
      if (sealed) throw headersSent('expire()')
      const result = await this.#onLive('expire', (key) => this.#layer.store.expire(key, seconds))
      if (result !== undefined) this.#outgoing = 'set'
      return result !== undefined
    })
  }

  /**
   * Whether the handler called any method on this handle. For adapters: while it is `false`, skip
   * {@link Session.commit} and just {@link Session.seal} the handle, so an untouched session costs no
   * store call and no cookie.
   *
   * @example
   * ```ts
   * if (!session.active) session.seal()
   * else appendCookie(await session.commit())
   * ```
   */
  get active(): boolean {
    return this.#active
  }

  /**
   * For adapters: the last store failure in this request, for frameworks that turn a handler's
   * error into a response the adapter only sees afterwards (SvelteKit answers it 500; its adapter
   * makes it 503).
   */
  get storeError(): SessionStoreError | undefined {
    return this.#storeError
  }

  /**
   * For adapters: the response headers went out without a commit. From now on a call that would need
   * a new cookie (creating, regenerating, deleting or re-expiring the session) fails with
   * `ERR_SESSION_HEADERS_SENT` instead of silently losing the session; reads and writes into the
   * existing session still work.
   *
   * @example
   * ```ts
   * if (response.headersSent) session.seal()
   * ```
   */
  seal(): void {
    this.#sealed = true
  }

  /**
   * For adapters: call once, when the response headers are about to go out. Waits for the
   * operations started so far, applies an unconsumed {@link Session.prepareRegenerate}, and seals the
   * handle (a later call that would need a new cookie fails with `ERR_SESSION_HEADERS_SENT`).
   * Repeated calls return the same promise. Rejects with `SessionStoreError` when a pending
   * operation or the final move fails: answer the request with a 503 and no session cookie.
   *
   * @returns the `Set-Cookie` line to send, several lines (the session cookie and the removal of a
   *   legacy cookie, with the layer's `legacy` option), or `undefined` when no cookie changes
   *
   * @example
   * ```ts
   * const cookie = await session.commit()
   * if (cookie !== undefined) for (const line of [cookie].flat()) response.headers.append('set-cookie', line)
   * ```
   */
  commit(): Promise<SessionCookies | undefined> {
    this.#commit ??= this.#finish()
    return this.#commit
  }

  /**
   * For adapters of frameworks with no moment when the response headers are about to go out
   * (Next.js Server Actions set cookies through `cookies().set()` while the action runs): waits for
   * the operations started so far, applies an unconsumed {@link Session.prepareRegenerate}, and
   * returns the session cookie the state so far needs, without sealing (a legacy cookie's removal is
   * left to {@link Session.commit}). Call it again after later operations; rejects with
   * `SessionStoreError` as `commit` does.
   *
   * @returns the cookie's value and `Max-Age` (`0` removes it), or `undefined` when the response
   *   needs no session cookie
   *
   * @example
   * ```ts
   * await session.update('user', 'ada')
   * const cookie = await session.flush()
   * if (cookie !== undefined) jar.set(layer.cookie.name, cookie.value, { maxAge: cookie.maxAge })
   * ```
   */
  async flush(): Promise<OutgoingCookie | undefined> {
    await this.#settle()
    return this.#outgoingCookie()
  }

  async #settle(): Promise<void> {
    if (this.#tail !== undefined) await this.#tail
    if (this.#prepared !== undefined) {
      const prepared = this.#prepared
      await this.#run(() => this.#moveTo(prepared))
      this.#prepared = undefined
    }
  }

  async #finish(): Promise<SessionCookies | undefined> {
    this.#sealed = true
    await this.#settle()
    const cookie = this.#sessionCookie()
    if (!this.#clearLegacy) return cookie
    const legacy = (this.#layer.legacy as LegacyMigration).source
    if (cookie === undefined) return legacy.removalCookie
    // Under the same name, the new cookie replaces the legacy one; a removal would delete it again.
    return legacy.cookieName === this.#layer.cookie.name ? cookie : [cookie, legacy.removalCookie]
  }

  #sessionCookie(): string | undefined {
    const cookie = this.#outgoingCookie()
    if (cookie === undefined) return undefined
    const options = this.#layer.cookie
    return cookie.maxAge === 0
      ? serializeRemovalCookie(options)
      : serializeSessionCookie(options, cookie.value, cookie.maxAge)
  }

  #outgoingCookie(): OutgoingCookie | undefined {
    const layer = this.#layer
    if (this.#outgoing === 'clear') return { value: '', maxAge: 0 }
    const current = this.#candidates?.[0]
    if (this.#outgoing !== 'set' || current === undefined || !this.#confirmed) return undefined
    layer.warnIfInsecure(this.#transport)
    // A presented cookie that verified under the current secret is re-sent as is (saves an HMAC).
    const value = current.cookieValue ?? (layer.signer ? layer.signer.sign(current.id) : current.id)
    return { value, maxAge: Math.min(MAX_COOKIE_AGE, Math.max(1, Math.floor(this.#ttl / 1000))) }
  }

  async #write(
    field: string,
    value: unknown,
    options: SessionWriteOptions | undefined,
    mode: 'insert' | 'update',
  ): Promise<boolean> {
    this.#checkField(field)
    const layer = this.#layer
    const fieldTtl = fieldTtlOf(options, layer.cookie.maxAge)
    const extra = storeWriteOptions(options, layer.store)
    const fields = layer.fields
    // Without schemas the value is checked at the call; a schema (maybe async) runs in call order,
    // inside the queue, and its output is what gets stored.
    let bytes = fields === undefined ? this.#encode(value) : undefined
    const validate =
      fields === undefined
        ? undefined
        : async () => {
            bytes = this.#encode(await fields.forWrite(field, value))
          }
    const result = await this.#place(
      'write',
      fieldTtl,
      (key, placement) => {
        const write: WriteOptions = { ...placement, mode }
        if (extra !== undefined) write.extra = extra
        return layer.store.write(key, field, bytes as FieldValue, write)
      },
      validate,
    )
    if (result.status === 'written') this.#remember(field, bytes)
    else this.#cache?.delete(field)
    return result.status === 'written'
  }

  /**
   * Run a write-shaped store call (`write`, `increment`) under the rules of every write: it creates
   * the session when there is none (retrying on a collision with a fresh id), falls through dead
   * candidates, and consumes a prepared regenerate by moving the session in the same call.
   */
  #place<R extends { status: string }>(
    operation: 'write' | 'increment' | 'bind',
    fieldTtl: number,
    send: (key: SessionKey, placement: PlacementOptions) => Promise<R>,
    prepare?: () => Promise<void>,
  ): Promise<Exclude<R, { status: 'missing' | 'collision' }>> {
    // A bind always offers the store a fresh id: it moves the session there when the subject changes.
    const fresh = operation === 'bind'
    const layer = this.#layer
    const sealed = this.#sealed
    return this.#run(async () => {
      await prepare?.()
      for (let collisions = 0; collisions <= MAX_COLLISION_RETRIES; ) {
        const candidate = this.#parse()[0] ?? (this.#legacyPending() ? await this.#fromLegacy() : undefined)
        const target = candidate === undefined || fresh ? (this.#prepared ?? createSessionId()) : this.#prepared
        if (sealed && target !== undefined) throw headersSent('a write that creates or renames the session')
        const key = target === undefined ? (candidate as Candidate).key : sessionKeyOf(target)
        const creating = candidate === undefined
        const placement: PlacementOptions = {
          session: creating ? 'create' : 'existing',
          fieldTtl,
          sessionTtl: layer.idleTimeout ?? (creating ? Math.max(layer.cookie.maxAge, fieldTtl) : fieldTtl),
        }
        if (!creating && target !== undefined) placement.renameFrom = candidate.key
        if (creating && layer.absoluteTimeout !== undefined) placement.maxLifetime = layer.absoluteTimeout
        const result = await this.#call(operation, () => send(key, placement))
        if (result.status === 'missing') {
          this.#drop()
          continue
        }
        if (result.status === 'collision') {
          collisions++
          if (this.#prepared !== undefined) this.#prepared = createSessionId()
          continue
        }
        const live = result as Exclude<R, { status: 'missing' | 'collision' }> & LiveSession
        // `kept`: already bound to the subject, the session stayed where it was (a prepared id stays pending).
        if (target === undefined || result.status === 'kept') this.#confirm(live)
        else {
          this.#adopt(target, key, live)
          publishSessionEvent(creating ? 'created' : 'regenerated', layer.store.name)
        }
        return live
      }
      throw new SessionError('ERR_SESSION_COLLISION', 'could not find a free session id')
    })
  }

  /** Rename the current session to `id` (regenerate or a prepared id), trying candidates in order. */
  async #moveTo(id: string): Promise<string | undefined> {
    let target = id
    for (let collisions = 0; collisions <= MAX_COLLISION_RETRIES; ) {
      const candidate = this.#parse()[0] ?? (this.#legacyPending() ? await this.#fromLegacy() : undefined)
      if (candidate === undefined) return undefined
      const key = sessionKeyOf(target)
      const result = await this.#call('rename', () => this.#layer.store.rename(candidate.key, key))
      if (result.status === 'missing') {
        this.#drop()
      } else if (result.status === 'collision') {
        collisions++
        target = createSessionId()
      } else {
        this.#adopt(target, key, result)
        publishSessionEvent('regenerated', this.#layer.store.name)
        return target
      }
    }
    throw new SessionError('ERR_SESSION_COLLISION', 'could not find a free session id')
  }

  /** Run `operation` against the current candidate, falling through dead candidates in order. */
  async #onLive<R extends { live: boolean }>(
    name: string,
    operation: (key: SessionKey) => Promise<R>,
  ): Promise<(R & LiveSession) | undefined> {
    for (;;) {
      const candidate = this.#parse()[0] ?? (this.#legacyPending() ? await this.#fromLegacy() : undefined)
      if (candidate === undefined) return undefined
      const result = await this.#call(name, () => operation(candidate.key))
      if (result.live) {
        this.#confirm(result as R & LiveSession)
        return result as R & LiveSession
      }
      this.#drop()
    }
  }

  /** No live session here yet, and the layer can look for a legacy one that this request has not. */
  #legacyPending(): boolean {
    return this.#layer.legacy !== undefined && !this.#legacyChecked
  }

  /**
   * The session migrated from the request's legacy cookie, as the current candidate. It is not
   * confirmed: the operation that asked runs against it as against a presented cookie, so a session
   * deleted since (within the grace window) is dropped like any dead one. `stale` re-issues the
   * cookie once the store shows it live.
   */
  async #fromLegacy(): Promise<Candidate | undefined> {
    this.#legacyChecked = true
    const legacy = this.#layer.legacy as LegacyMigration
    const legacyId = legacy.source.find(this.#header)
    if (legacyId === undefined) return undefined
    const migrated = await legacy.migrate(legacyId)
    this.#clearLegacy = true
    if (migrated === undefined) return undefined
    const candidate: Candidate = { id: migrated.id, key: migrated.key, stale: true }
    this.#candidates = [candidate]
    this.#confirmed = false
    return candidate
  }

  #confirm(session: LiveSession): void {
    if (!this.#confirmed && this.#candidates?.[0]?.stale) this.#outgoing = 'set'
    this.#confirmed = true
    this.#ttl = session.ttl
    if (session.touched) this.#outgoing = 'set'
  }

  #adopt(id: string, key: SessionKey, session: LiveSession): void {
    this.#candidates = [{ id, key, stale: false }]
    this.#prepared = undefined
    this.#confirmed = true
    this.#ttl = session.ttl
    this.#outgoing = 'set'
  }

  /** The current candidate is not live: a confirmed session that died takes the others with it. */
  #drop(): void {
    publishSessionEvent('expired', this.#layer.store.name)
    this.#subject = undefined
    const candidates = this.#parse()
    if (this.#confirmed) candidates.length = 0
    else candidates.shift()
    this.#confirmed = false
    this.#cache = undefined
  }

  #forget(): void {
    this.#subject = undefined
    this.#candidates = []
    this.#confirmed = false
    this.#prepared = undefined
    this.#cache = undefined
  }

  #remember(field: string, bytes: FieldValue | undefined): void {
    this.#cache ??= new Map()
    this.#cache.set(field, bytes)
  }

  #parse(): Candidate[] {
    if (this.#candidates !== undefined) return this.#candidates
    const values = parseCookieHeader(this.#header, this.#layer.cookie.name)
    this.#presentedCookie = values.length > 0
    this.#candidates = this.#layer.candidates.read(values)
    return this.#candidates
  }

  /**
   * Run `task` after every operation queued before it. With nothing pending (the usual case: a
   * handler awaits each call) it starts at once, without a hop through the queue.
   */
  #run<T>(task: () => Promise<T>): Promise<T> {
    this.#active = true
    const result = this.#pending === 0 ? task() : (this.#tail as Promise<unknown>).then(task, task)
    this.#pending++
    const settled = () => {
      if (--this.#pending === 0) this.#tail = undefined
    }
    this.#tail = result.then(settled, settled)
    return result
  }

  /** A store call; whatever it throws that is not already a session error becomes a store error. */
  #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return callStore(this.#layer.store.name, operation, call, (error) => {
      this.#storeError = error
    })
  }

  #encode(value: unknown): Uint8Array {
    const codec = this.#layer.codec
    codec.validate?.(value)
    try {
      return codec.encode(value)
    } catch (error) {
      throw new SessionError('ERR_SESSION_VALUE', `session value cannot be encoded as ${codec.name}`, { cause: error })
    }
  }

  #decode(bytes: FieldValue | undefined): unknown {
    return bytes === undefined ? undefined : this.#layer.codec.decode(bytes)
  }

  /** A stored field as the caller sees it: decoded and, with schemas, validated (maybe async). */
  #read(field: string, bytes: FieldValue | undefined): unknown {
    const fields = this.#layer.fields
    if (bytes === undefined || fields === undefined) return this.#decode(bytes)
    return fields.forRead(field, this.#decode(bytes))
  }

  /** A field name every backend can hold and, with schemas, one of the layer's fields. */
  #checkField(field: string): void {
    checkField(field)
    this.#layer.fields?.assertKnown(field)
  }
}

/**
 * @internal For `layer.sessions.list(subject, { current })`: the keys that may be the session of the
 * request `session` belongs to, in the order the request picks them. Never exported from the package.
 *
 * @param session - a request's session handle
 * @returns its candidate keys
 */
export function currentKeysOf<Data extends object>(session: Session<Data>): SessionKey[] {
  return currentKeys(session as unknown as Session<never>)
}

// `req.session.user = x` is express-session's habit; here it would set a property that is never
// stored. A Proxy at the root of the prototype chain sees only assignments of names the class does
// not define (its methods and getters are found first, its state is in private fields), so the
// per-request handle stays an ordinary object and reads pay nothing.
Object.setPrototypeOf(
  Session.prototype,
  new Proxy(Object.prototype, {
    set(target, property, value, receiver) {
      // Symbols are how libraries tag objects; only named fields are the express-session habit.
      if (typeof property === 'symbol') return Reflect.set(target, property, value, receiver)
      throw new TypeError(
        `session.${property} = … stores nothing: write the field with await session.update('${property}', value)`,
      )
    },
  }),
)
