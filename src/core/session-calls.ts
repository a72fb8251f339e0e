import type { Candidate } from './candidates.js'
import { parseCookieHeader } from './cookie.js'
import { publishSessionEvent, storeCallsObserved } from './diagnostics.js'
import { headersSent, SessionError, type SessionStoreError } from './errors.js'
import { createSessionId, sessionKeyOf } from './ids.js'
import type { ResponseState, SessionLayer, TransportSource } from './layer.js'
import type { MigratedSession } from './legacy.js'
import type { SessionCookies } from './session-commit.js'
import { legacyPending, migrateLegacy } from './session-legacy.js'
import type { FieldValue, LiveSession, PlacementOptions, SessionKey } from './store.js'
import { callStore, storeFailure } from './timeout.js'

const MAX_COLLISION_RETRIES = 3

/**
 * The state of one request's session handle and the way its store calls run: queued in call order,
 * against the right candidate (falling through dead ones, creating or moving the session when a
 * write needs it). {@link Session} owns one and its operations (the `session-*.ts` modules) work on
 * it; it is never exported from the package, so its state is plain properties.
 *
 * @typeParam Data - the layer's session shape
 */
export class SessionCalls<Data extends object> {
  /** The layer that opened the handle. */
  readonly layer: SessionLayer<Data>
  /** The request's `Cookie` header value(s). */
  readonly header: string | readonly string[] | null | undefined
  /** Scheme and host, for the plain-HTTP `Secure` warning. */
  readonly transport: TransportSource | undefined
  /** Presented ids in cookie order; the first is the current session. `undefined` until parsed. */
  candidates: Candidate[] | undefined
  /** The first candidate is known to be live (confirmed by the store or created here). */
  confirmed = false
  /** The request carried the session cookie (known once parsed). */
  presentedCookie = false
  /** The id chosen by `prepareRegenerate()`, until a write or the commit moves the session there. */
  prepared: string | undefined
  /** What the response must say about the cookie. */
  outgoing: 'none' | 'set' | 'clear' = 'none'
  /** The session's remaining lifetime in milliseconds, as the last store call reported it. */
  ttl = 0
  /** Field bytes read or written in this request (`undefined` = known to be absent); created on first use. */
  cache: Map<string, FieldValue | undefined> | undefined
  /** The handle was sealed: the response headers went out (or are going) without this commit. */
  #sealed = false
  /** The handler called a method on the handle. */
  active = false
  /**
   * Runs once, when the handler first calls a method of the handle, before that call reads any
   * state: an adapter that defers its own work until the session is used (Express) sets it.
   */
  firstUse: (() => void) | undefined
  /** The commit, once started: repeated calls share it. */
  commit: Promise<SessionCookies | undefined> | undefined
  /** The last store failure in this request. */
  storeError: SessionStoreError | undefined
  /** The legacy cookie was looked at (with the layer's `legacy` option): at most once per request. */
  legacyChecked = false
  /** The response must also remove the legacy cookie. */
  clearLegacy = false
  /**
   * The copy this request's legacy migration made, while the legacy session is still whole: it is
   * destroyed when the response carries a session cookie (or `delete()` ends the copy), so a request
   * that fails closed signs nobody out.
   */
  migrated: { readonly legacyId: string; readonly session: MigratedSession } | undefined
  /**
   * Presented keys a store call in this request found dead. `delete()` still sends them to the
   * store: "dead" can be a moment (a Cluster rename between its steps holds only a tombstone at the
   * old key), and a logout must reach the store to retire the id for good. Created on first drop.
   */
  dropped: SessionKey[] | undefined
  /** The current session's subject, once a store call in this request told it (or bound it). */
  subject: { value: string | undefined } | undefined
  /** The last queued operation, while any is pending; operations run one after another in call order. */
  #tail: Promise<unknown> | undefined
  #pending = 0

  /** The response as the adapter gave it: its headers going out seals the handle too. */
  readonly response: ResponseState | undefined

  /**
   * @param layer - the layer that opens the handle
   * @param header - the request's `Cookie` header value(s)
   * @param transport - scheme and host, for the plain-HTTP `Secure` warning
   * @param response - the response, when the handler can write its headers itself
   */
  constructor(
    layer: SessionLayer<Data>,
    header: string | readonly string[] | null | undefined,
    transport: TransportSource | undefined,
    response: ResponseState | undefined,
  ) {
    this.layer = layer
    this.header = header
    this.transport = transport
    this.response = response
  }

  /**
   * The response headers went out (or are going): a call that needs a new cookie fails. True once
   * the adapter sealed the handle, or once the response's own headers were sent (a handler that
   * writes the Node response itself).
   */
  get sealed(): boolean {
    return this.#sealed || this.response?.headersSent === true
  }

  set sealed(value: boolean) {
    this.#sealed = value
  }

  /** The start of every handler-facing method of the handle: runs {@link firstUse} once. */
  use(): void {
    const hook = this.firstUse
    if (hook !== undefined) {
      this.firstUse = undefined
      hook()
    }
  }

  /**
   * Run `task` after every operation queued before it. With nothing pending (the usual case: a
   * handler awaits each call) it starts at once, without a hop through the queue.
   *
   * @param task - the operation
   * @returns what `task` resolves to
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.active = true
    const result = this.#pending === 0 ? task() : (this.#tail as Promise<unknown>).then(task, task)
    this.#pending++
    const settled = () => {
      if (--this.#pending === 0) this.#tail = undefined
    }
    this.#tail = result.then(settled, settled)
    return result
  }

  /** Nothing is queued or running, and no prepared regenerate waits: {@link settle} has nothing to do. */
  get idle(): boolean {
    return this.#tail === undefined && this.prepared === undefined
  }

  /**
   * Wait for the operations queued so far, then apply an unconsumed prepared regenerate.
   *
   * @returns when the handle has nothing pending
   */
  async settle(): Promise<void> {
    if (this.#tail !== undefined) await this.#tail
    if (this.prepared !== undefined) {
      const prepared = this.prepared
      await this.run(() => this.moveTo(prepared))
      this.prepared = undefined
    }
  }

  /**
   * A store call; whatever it throws that is not already a session error becomes a store error.
   *
   * @param operation - the store operation, for messages and traces
   * @param call - the store call
   * @returns the call's result
   */
  call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return callStore(this.layer.store.name, operation, call, (error) => {
      this.storeError = error
    })
  }

  /**
   * What a store call of {@link onLive} or {@link place} failed with, as {@link call} would reject:
   * when nobody traces store calls, those loops call the store directly and convert its failure in
   * their own `catch`: no wrapper promise and no closures per call (`call` costs both).
   *
   * @param operation - the store operation
   * @param error - what the store call threw or rejected with
   * @returns the error to throw
   */
  failure(operation: string, error: unknown): SessionError {
    return storeFailure(this.layer.store.name, operation, error, (failure) => {
      this.storeError = failure
    })
  }

  /** @returns the presented candidates, parsed from the cookie header on first use */
  parse(): Candidate[] {
    if (this.candidates !== undefined) return this.candidates
    const values = parseCookieHeader(this.header, this.layer.cookie.name)
    this.presentedCookie = values.length > 0
    this.candidates = this.layer.candidates.read(values)
    return this.candidates
  }

  /** @returns the id the request refers to: a prepared one, else the current candidate's */
  currentId(): string | undefined {
    return this.prepared ?? this.parse()[0]?.id
  }

  /**
   * @returns the keys that may be this request's session, in the order the request would pick them:
   *   the confirmed one, or every presented candidate (the first live one is the session)
   */
  currentKeys(): SessionKey[] {
    const candidates = this.parse()
    return (this.confirmed ? candidates.slice(0, 1) : candidates).map((candidate) => candidate.key)
  }

  /**
   * Run `operation` against the current candidate, falling through dead candidates in order.
   *
   * @param name - the store operation, for messages and traces
   * @param operation - the store call for one key
   * @returns its result for the first live candidate, or `undefined` when none is live
   */
  async onLive<R extends { live: boolean }>(
    name: string,
    operation: (key: SessionKey) => Promise<R>,
  ): Promise<(R & LiveSession) | undefined> {
    for (;;) {
      const candidate = this.parse()[0] ?? (legacyPending(this) ? await migrateLegacy(this) : undefined)
      if (candidate === undefined) return undefined
      // Straight to the store unless someone traces store calls (`call` converts its own failures).
      const traced = storeCallsObserved()
      let result: R
      try {
        result = await (traced ? this.call(name, () => operation(candidate.key)) : operation(candidate.key))
      } catch (error) {
        throw traced ? error : this.failure(name, error)
      }
      if (result.live) {
        this.#confirm(result as R & LiveSession)
        return result as R & LiveSession
      }
      this.#drop()
    }
  }

  /**
   * Run a write-shaped store call (`write`, `increment`, `bind`) under the rules of every write: it
   * creates the session when there is none (retrying on a collision with a fresh id), falls through
   * dead candidates, and consumes a prepared regenerate by moving the session in the same call.
   *
   * @param operation - the store operation; a `bind` always offers the store a fresh id
   * @param fieldTtl - the written field's TTL in seconds
   * @param send - the store call for a key and its placement (built for this one call: `send` may add
   *   its operation's own options to it rather than copy it)
   * @param prepare - runs first, in call order (a schema check of the value)
   * @returns the store's result for the session it reached
   */
  place<R extends { status: string }>(
    operation: 'write' | 'increment' | 'bind',
    fieldTtl: number,
    send: (key: SessionKey, placement: PlacementOptions) => Promise<R>,
    prepare?: () => Promise<void>,
  ): Promise<Exclude<R, { status: 'missing' | 'collision' }>> {
    // A bind always offers the store a fresh id: it moves the session there when the subject changes.
    const fresh = operation === 'bind'
    const layer = this.layer
    const sealed = this.sealed
    return this.run(async () => {
      // Awaited only when there is one: `await undefined` would still cost a promise and a turn.
      if (prepare !== undefined) await prepare()
      for (let collisions = 0; collisions <= MAX_COLLISION_RETRIES; ) {
        const candidate = this.parse()[0] ?? (legacyPending(this) ? await migrateLegacy(this) : undefined)
        const target = candidate === undefined || fresh ? (this.prepared ?? createSessionId()) : this.prepared
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
        if (layer.storeMaxFields !== undefined) placement.maxFields = layer.storeMaxFields
        // As in onLive: straight to the store unless someone traces store calls.
        const traced = storeCallsObserved()
        let result: R
        try {
          result = await (traced ? this.call(operation, () => send(key, placement)) : send(key, placement))
        } catch (error) {
          throw traced ? error : this.failure(operation, error)
        }
        if (result.status === 'missing') {
          this.#drop()
          continue
        }
        if (result.status === 'collision') {
          collisions++
          if (this.prepared !== undefined) this.prepared = createSessionId()
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

  /**
   * Rename the current session to `id` (regenerate or a prepared id), trying candidates in order.
   *
   * @param id - the new id; replaced by a fresh one on a collision
   * @returns the id the session now has, or `undefined` when there is no session
   */
  async moveTo(id: string): Promise<string | undefined> {
    let target = id
    for (let collisions = 0; collisions <= MAX_COLLISION_RETRIES; ) {
      const candidate = this.parse()[0] ?? (legacyPending(this) ? await migrateLegacy(this) : undefined)
      if (candidate === undefined) return undefined
      const key = sessionKeyOf(target)
      const result = await this.call('rename', () => this.layer.store.rename(candidate.key, key))
      if (result.status === 'missing') {
        this.#drop()
      } else if (result.status === 'collision') {
        collisions++
        target = createSessionId()
      } else {
        this.#adopt(target, key, result)
        publishSessionEvent('regenerated', this.layer.store.name)
        return target
      }
    }
    throw new SessionError('ERR_SESSION_COLLISION', 'could not find a free session id')
  }

  /** The store showed the current candidate live. */
  #confirm(session: LiveSession): void {
    if (!this.confirmed && this.candidates?.[0]?.stale) this.outgoing = 'set'
    this.confirmed = true
    this.ttl = session.ttl
    if (session.touched) this.outgoing = 'set'
  }

  #adopt(id: string, key: SessionKey, session: LiveSession): void {
    this.candidates = [{ id, key, stale: false }]
    this.prepared = undefined
    this.confirmed = true
    this.ttl = session.ttl
    this.outgoing = 'set'
  }

  /** The current candidate is not live: a confirmed session that died takes the others with it. */
  #drop(): void {
    publishSessionEvent('expired', this.layer.store.name)
    this.subject = undefined
    const candidates = this.parse()
    const dead = candidates[0]
    if (dead !== undefined) this.dropped = [...(this.dropped ?? []), dead.key]
    if (this.confirmed) candidates.length = 0
    else candidates.shift()
    this.confirmed = false
    this.cache = undefined
  }

  /** The session is gone (deleted here): no candidate, no prepared id, nothing remembered. */
  forget(): void {
    this.subject = undefined
    this.candidates = []
    this.confirmed = false
    this.prepared = undefined
    this.cache = undefined
  }

  /**
   * Remember a field's bytes for later reads in this request.
   *
   * @param field - field name
   * @param bytes - its stored bytes, or `undefined` when it is known to be absent
   */
  remember(field: string, bytes: FieldValue | undefined): void {
    this.cache ??= new Map()
    this.cache.set(field, bytes)
  }
}
