import { refuseFieldAssignment } from './assignment-guard.js'
import { SessionError, type SessionStoreError } from './errors.js'
import type { ResponseState, SessionLayer, TransportSource } from './layer.js'
import { SessionCalls } from './session-calls.js'
import { commitCookies, flushCookie, type OutgoingCookie, type SessionCookies } from './session-commit.js'
import {
  getAllFields,
  getField,
  type IntegerField,
  incrementField,
  removeField,
  takeField,
  writeField,
} from './session-fields.js'
import { abandonLegacy } from './session-legacy.js'
import { deleteSession, expireSession, prepareRegenerate, regenerateSession } from './session-lifecycle.js'
import type { SessionMap } from './session-map.js'
import { getSubject, listSiblings, revokeOthers, setSubject } from './session-subject.js'
import type { SessionKey } from './store.js'
import type { SessionInfo } from './subject-values.js'
import type { SessionWriteOptions } from './write-options.js'

export type { OutgoingCookie, SessionCookies } from './session-commit.js'
export type { IntegerField } from './session-fields.js'

/** Set by the class's static block: reads a handle's state (see {@link currentKeysOf}). */
let callsOf: (session: Session<never>) => SessionCalls<never>

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
  /** Everything this handle knows about its session, and the queue its store calls run in. */
  readonly #calls: SessionCalls<Data>

  static {
    callsOf = (session) => session.#calls
  }

  /** @internal Use {@link SessionLayer.open}. */
  constructor(
    layer: SessionLayer<Data>,
    header: string | readonly string[] | null | undefined,
    transport?: TransportSource,
    response?: ResponseState,
  ) {
    this.#calls = new SessionCalls(layer, header, transport, response)
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
    return this.#calls.currentId()
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
    this.#calls.use()
    return getField(this.#calls, field) as Promise<Data[K] | undefined>
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
    this.#calls.use()
    return getAllFields(this.#calls)
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
    this.#calls.use()
    return started(writeField(this.#calls, field, value, options, 'insert'))
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
    this.#calls.use()
    return started(writeField(this.#calls, field, value, options, 'update'))
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
  increment<K extends IntegerField<Data>>(field: K, by = 1, options?: { ttl?: number }): Promise<number> {
    this.#calls.use()
    return started(incrementField(this.#calls, field, by, options))
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
    this.#calls.use()
    return takeField(this.#calls, field) as Promise<Data[K] | undefined>
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
    this.#calls.use()
    return removeField(this.#calls, field)
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
    this.#calls.use()
    // biome-ignore lint/complexity/noArguments: the public signature takes nothing; this catches express-session's destroy(cb) habit
    if (arguments.length > 0) return takesNoCallback('delete')
    return deleteSession(this.#calls)
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
    this.#calls.use()
    // biome-ignore lint/complexity/noArguments: the public signature takes nothing; this catches express-session's regenerate(cb) habit
    if (arguments.length > 0) return takesNoCallback('regenerate')
    return regenerateSession(this.#calls)
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
    this.#calls.use()
    return prepareRegenerate(this.#calls)
  }

  /**
   * Bind this session to a subject, typically the id of the user who just logged in. A
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
  setSubject(subject: string, options: { meta?: Readonly<Record<string, unknown>> } = {}): Promise<void> {
    this.#calls.use()
    return started(setSubject(this.#calls, subject, options))
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
  getSubject(): Promise<string | undefined> {
    this.#calls.use()
    return started(getSubject(this.#calls))
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
  listSiblings(): Promise<SessionInfo[]> {
    this.#calls.use()
    return started(listSiblings(this.#calls))
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
  revokeOthers(): Promise<number> {
    this.#calls.use()
    return started(revokeOthers(this.#calls))
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
    this.#calls.use()
    return expireSession(this.#calls, seconds)
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
    return this.#calls.active
  }

  /**
   * For adapters: the last store failure in this request, for frameworks that turn a handler's
   * error into a response the adapter only sees afterwards (SvelteKit answers it 500; its adapter
   * makes it 503).
   */
  get storeError(): SessionStoreError | undefined {
    return this.#calls.storeError
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
    this.#calls.sealed = true
    // A response that goes out without committing (a 5xx after a store failure) leaves a legacy
    // session this request copied whole: the next request migrates it afresh.
    if (this.#calls.commit === undefined) abandonLegacy(this.#calls)
  }

  /**
   * For adapters: call once, when the response headers are about to go out. Waits for the
   * operations started so far, applies an unconsumed {@link Session.prepareRegenerate}, and seals the
   * handle (a later call that would need a new cookie fails with `ERR_SESSION_HEADERS_SENT`).
   * Repeated calls return the same promise. Rejects with `SessionStoreError` when the final move (the
   * prepared regenerate) fails: answer the request with a 503 and no session cookie. A failed
   * operation the handler started shows in {@link Session.storeError} instead (the handler saw it
   * reject, or chose not to wait); `failsClosed` from `ruts/adapter` tells when a 5xx must then go
   * out without a cookie.
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
    this.#calls.commit ??= commitCookies(this.#calls)
    return this.#calls.commit
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
  flush(): Promise<OutgoingCookie | undefined> {
    this.#calls.use()
    return flushCookie(this.#calls)
  }
}

/**
 * @internal For adapters that defer their own work until the handler uses the session (Express shadows
 * the response's methods only then): `hook` runs once, when the handler first calls a method of the
 * handle, before that call reads any state. Never exported from the package.
 *
 * @param session - a request's session handle
 * @param hook - what to do at the first use
 */
export function onFirstUse<Data extends object>(session: Session<Data>, hook: () => void): void {
  callsOf(session as unknown as Session<never>).firstUse = hook
}

/**
 * @internal For `layer.sessions.list(subject, { current })`: the keys that may be the session of the
 * request `session` belongs to, in the order the request picks them. Never exported from the package.
 *
 * @param session - a request's session handle
 * @returns its candidate keys
 */
export function currentKeysOf<Data extends object>(session: Session<Data>): SessionKey[] {
  return callsOf(session as unknown as Session<never>).currentKeys()
}

const ignore = (): void => {}

/**
 * A call the handler may start without awaiting (its cookie still goes out: the commit waits for it).
 * When the store fails it, the failure is the request's store error and answers the response; it must
 * not also end the process as an unhandled rejection. Whoever awaits the promise still sees it reject.
 * Like the calls that return their queue slot directly (`get`, `remove`, …), whose queue handles them,
 * a call nobody awaits reports nothing else: a rejection only the caller can see cannot be told apart
 * from one the caller will catch, so a bad argument in an unawaited call is the caller's to find.
 */
function started<T>(promise: Promise<T>): Promise<T> {
  promise.catch(ignore)
  return promise
}

// `req.session.user = x` (express-session's habit) would store nothing: it throws instead.
refuseFieldAssignment(Session.prototype)

/**
 * `regenerate(cb)` / `destroy(cb)` from express-session code would wait for a callback that a
 * promise-returning call never makes, and hang the request: refused at once, with the call to write
 * instead.
 */
function takesNoCallback(method: 'regenerate' | 'delete'): never {
  // Thrown, not a rejected promise: callback-style code never holds the promise, and an unhandled
  // rejection would end the process.
  throw new SessionError(
    'ERR_SESSION_ARGUMENT',
    `session.${method}() takes no arguments and calls no callback: it returns a promise (await session.${method}())`,
  )
}
