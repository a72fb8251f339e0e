import { publishSessionEvent } from './diagnostics.js'
import { SessionError } from './errors.js'
import { isFieldName, quoteField } from './fields.js'
import { createSessionId, sessionKeyOf } from './ids.js'
import type { SessionLayer } from './layer.js'
import { encodeValue } from './session-values.js'
import type { SessionKey, WriteOptions } from './store.js'
import { callStore } from './timeout.js'
import { MAX_TTL } from './ttl.js'

/** Fields carried over from another library's session: field name → value. */
export type LegacyFields = Record<string, unknown>

/** A legacy session as its store holds it (see {@link LegacySessionSource.loadSession}). */
export interface LegacySession {
  /** The fields to carry over. */
  readonly fields: LegacyFields
  /**
   * When the browser's legacy cookie expires (epoch milliseconds), when the legacy library gave it an
   * expiry (a "remember me" lifetime, say): the migrated session then lives at least as long, so
   * nobody is signed out earlier than the old app would have. Absent for a browser-session cookie.
   */
  readonly expiresAt?: number | undefined
}

/**
 * A source of sessions another library created, for the layer's `legacy` option. The core
 * knows nothing of the other library's cookie or store: `ruts/express-session` provides a source for
 * express-session, and another library can be bridged by implementing these four members.
 */
export interface LegacySessionSource {
  /** The legacy cookie's name; when it equals the layer's own, the new cookie replaces it outright. */
  readonly cookieName: string
  /** The `Set-Cookie` line that removes the legacy cookie. */
  readonly removalCookie: string
  /**
   * How long this process remembers a migration that moved a session, in milliseconds: requests
   * that carry the same legacy cookie meanwhile (sent before the browser saw the new cookie) join
   * the migrated session instead of finding the legacy one destroyed. A lookup that found no legacy
   * session is not remembered.
   * @default 10000
   */
  readonly graceMs?: number
  /**
   * The verified legacy session id the request's cookie names. No I/O: a missing, unsigned or
   * wrongly signed cookie gives `undefined` and never reaches the legacy store.
   */
  find(cookieHeader: string | readonly string[] | null | undefined): string | undefined
  /**
   * Every verified legacy session id the request's cookies name, in header order (at most 3, as for
   * ruts' own cookie): the first whose session the legacy store still holds is migrated, so a stale
   * or planted cookie sent first cannot hide a live one. Without it, only {@link find}'s is tried.
   */
  findAll?(cookieHeader: string | readonly string[] | null | undefined): readonly string[]
  /**
   * The fields to carry over, or `undefined` when the legacy store no longer holds the session.
   * Bounded in time; a failure rejects with a `SessionStoreError`.
   */
  load(legacyId: string): Promise<LegacyFields | undefined>
  /**
   * Like {@link load}, with the legacy cookie's expiry: preferred to `load` when present.
   */
  loadSession?(legacyId: string): Promise<LegacySession | undefined>
  /** Destroy the legacy session. Bounded in time; a failure rejects with a `SessionStoreError`. */
  destroy(legacyId: string): Promise<void>
}

/**
 * What a migration takes from its layer: where sessions go, how values are encoded, their lifetimes,
 * and the limits a session the layer builds is held to.
 */
export type MigrationTarget = Pick<
  SessionLayer,
  'store' | 'codec' | 'cookie' | 'idleTimeout' | 'absoluteTimeout' | 'maxValueBytes' | 'storeMaxFields'
>

/** A ruts session holding a legacy session's data. */
export interface MigratedSession {
  readonly id: string
  readonly key: SessionKey
}

/** A field write the store refused for the field's name. */
const REFUSED = Symbol('refused')

interface Flight {
  readonly outcome: Promise<MigratedSession | undefined>
  /** When this process stops answering from the flight; `Infinity` while it runs. */
  until: number
  /** What the outcome resolved to, once it did. */
  session?: MigratedSession
  /** The legacy session's destroy, once a response of the flight carried the copy's cookie. */
  destroyed?: Promise<void>
}

const DEFAULT_GRACE_MS = 10_000
/** Bound on remembered migrations (and on unsettled copies); each is a few hundred bytes. */
const MAX_FLIGHTS = 10_000
const MAX_COLLISION_RETRIES = 3
/** Bound on the field names reported as left out. */
const MAX_DROPPED_NAMES = 100
/** Verified legacy cookies that found no legacy session, before any did, that make the layer warn. */
const SUSPICIOUS_MISSES = 20

/**
 * Moves legacy sessions into the layer's store, one migration per legacy session per process: the
 * first request runs it, concurrent and closely following requests with the same legacy cookie get
 * the same ruts session (single flight plus a grace window). The legacy session is destroyed only
 * when a response carries the copy's cookie ({@link LegacyMigration.settle}), so a request that
 * fails at any step, the migration or a later call, leaves it whole; when the destroy itself fails,
 * the copy waits for the next request, which adopts it if the destroy ran after all.
 */
export class LegacyMigration {
  /** The source this migration reads from. */
  readonly source: LegacySessionSource
  readonly #layer: MigrationTarget
  readonly #graceMs: number
  readonly #flights = new Map<string, Flight>()
  /**
   * Copies whose legacy destroy failed, by legacy id, until the grace window ends: a destroy that
   * timed out may still have run, and then the copy is the only place the data is left.
   */
  readonly #unsettled = new Map<string, { readonly session: MigratedSession; readonly until: number }>()
  readonly #warn: (message: string) => void
  /** Field names already reported as left out (one warning each). */
  readonly #dropped = new Set<string>()
  /**
   * The distinct verified legacy ids whose session the legacy store did not hold, until the first that
   * it did (then `undefined`): only misses at first suggest the legacy store is not the old app's.
   */
  #missesBeforeFirst: Set<string> | undefined = new Set()

  /**
   * @param source - where legacy sessions come from
   * @param layer - the layer whose store, codec and lifetimes the migrated session gets
   * @param warn - the layer's `onWarning`, told of a field a migration left out
   */
  constructor(source: LegacySessionSource, layer: MigrationTarget, warn: (message: string) => void = () => {}) {
    this.source = source
    this.#layer = layer
    this.#graceMs = source.graceMs ?? DEFAULT_GRACE_MS
    this.#warn = warn
  }

  /**
   * @param legacyId - a verified legacy session id
   * @returns the ruts session now holding a copy of its data (the legacy session stays until
   *   {@link LegacyMigration.settle}), or `undefined` when the legacy store had none
   */
  migrate(legacyId: string): Promise<MigratedSession | undefined> {
    const now = Date.now()
    const known = this.#flights.get(legacyId)
    if (known !== undefined && known.until > now) return known.outcome
    pruneEnded(this.#flights, now)
    const flight: Flight = { outcome: this.#move(legacyId), until: Number.POSITIVE_INFINITY }
    this.#flights.set(legacyId, flight)
    // Only a migration that moved a session is remembered. A failed one, and one that found nothing
    // (the legacy app may not have finished saving: express-session sends its response before the
    // store call ends), are forgotten when they settle, so the next request looks again.
    const forget = () => {
      if (this.#flights.get(legacyId) === flight) this.#flights.delete(legacyId)
    }
    flight.outcome.then((migrated) => {
      if (migrated === undefined) return forget()
      flight.session = migrated
      flight.until = Date.now() + this.#graceMs
    }, forget)
    return flight.outcome
  }

  /**
   * A request that held this migration's copy failed without sending its cookie: forget the
   * migration (unless its legacy session is already being destroyed), so that the next request reads
   * the legacy session again instead of joining a copy that request may have moved.
   *
   * @param legacyId - the legacy session's id
   * @param session - the copy that request held
   */
  abandon(legacyId: string, session: MigratedSession): void {
    const flight = this.#flights.get(legacyId)
    if (flight?.session === session && flight.destroyed === undefined) this.#flights.delete(legacyId)
  }

  /**
   * Destroy the legacy session a migration copied: called when a response carries the copy's cookie
   * (or a logout ended the copy), the moment the copy becomes the one place its data lives. Requests
   * that share a migration share one destroy. When it fails, the copy is kept for the next request to
   * settle (see the class).
   *
   * @param legacyId - the legacy session's id
   * @param session - the copy {@link LegacyMigration.migrate} made of it
   * @returns when the legacy session is gone; rejects with a `SessionStoreError`
   */
  settle(legacyId: string, session: MigratedSession): Promise<void> {
    const known = this.#flights.get(legacyId)
    const flight = known?.session === session ? known : undefined
    if (flight?.destroyed !== undefined) return flight.destroyed
    const destroyed = this.source.destroy(legacyId).catch((error: unknown) => {
      publishLegacyFailure('destroy', error)
      // The legacy session may be whole (the request fails, the next one migrates again) or gone,
      // if the destroy ran but its answer was lost; the copy is kept for the next request to tell.
      if (flight !== undefined && this.#flights.get(legacyId) === flight) this.#flights.delete(legacyId)
      this.#keepUnsettled(legacyId, session)
      throw error
    })
    if (flight !== undefined) flight.destroyed = destroyed
    return destroyed
  }

  async #move(legacyId: string): Promise<MigratedSession | undefined> {
    const loaded = await this.#load(legacyId).catch(reportLegacyFailure('load'))
    const earlier = this.#unsettled.get(legacyId)
    this.#unsettled.delete(legacyId)
    const current = earlier !== undefined && earlier.until > Date.now() ? earlier.session : undefined
    this.#noteLookup(legacyId, loaded !== undefined || current !== undefined)
    // Gone from the legacy store after a destroy that failed: that destroy ran after all, and the
    // copy holds the data (the request's first store call confirms it is still live).
    if (loaded === undefined) return current
    // Still whole: a new migration copies it again. The earlier copy is left to its TTL, not deleted:
    // a request that joined its migration may still be running and send its cookie last, which the
    // browser then keeps (SPEC §16: whichever arrives last must work).
    const entries = this.#encode(loaded.fields)
    if (entries.length > 0) {
      const stored = await this.#store(entries, loaded.expiresAt)
      if (stored !== undefined) return stored
      // Every field was left out (names the store reserves): as when none can be encoded, the
      // migration fails and the legacy session stays whole.
      throw new SessionError('ERR_SESSION_VALUE', 'no field of the legacy session can be stored in this store')
    }
    // Nothing to carry over: the legacy session goes now, as a logged-out visitor's would.
    await this.source.destroy(legacyId).catch(reportLegacyFailure('destroy'))
    return undefined
  }

  async #load(legacyId: string): Promise<LegacySession | undefined> {
    const source = this.source
    if (source.loadSession === undefined) {
      const fields = await source.load(legacyId)
      return fields === undefined ? undefined : { fields }
    }
    const loaded = await source.loadSession(legacyId)
    if (loaded === undefined) return undefined
    // Only a finite time counts; one that has passed means the legacy session has ended.
    const { expiresAt } = loaded
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return { fields: loaded.fields }
    return expiresAt <= Date.now() ? undefined : loaded
  }

  /**
   * A legacy store that holds none of the sessions the first verified cookies name is most likely not
   * the old app's (another Redis prefix, table or schema, or express-session's MemoryStore, whose
   * sessions died with the old processes): those users are signed out. Told once; every miss is an
   * `expired` event of the store `legacy` too.
   */
  #noteLookup(legacyId: string, found: boolean): void {
    if (!found) publishSessionEvent('expired', 'legacy')
    const misses = this.#missesBeforeFirst
    if (misses === undefined) return
    if (found) {
      this.#missesBeforeFirst = undefined
      return
    }
    misses.add(legacyId)
    if (misses.size < SUSPICIOUS_MISSES) return
    this.#missesBeforeFirst = undefined
    this.#warn(
      `ruts: the legacy store holds none of the sessions the first ${SUSPICIOUS_MISSES} correctly signed legacy cookies ` +
        'name: if the old app still has live sessions, legacySessions({ store }) is not the store it used ' +
        '(check its prefix, table or schema), and their users are being signed out',
    )
  }

  #keepUnsettled(legacyId: string, session: MigratedSession): void {
    const now = Date.now()
    pruneEnded(this.#unsettled, now)
    this.#unsettled.set(legacyId, { session, until: now + this.#graceMs })
  }

  /**
   * The fields to copy, encoded. A value the codec cannot carry (a lone surrogate in a string, a class
   * instance a store handed back) is left out and reported by name, so one such field does not lock
   * the user out: express-session served that session, and every request would otherwise fail. Only
   * when no field at all can be carried does the migration fail, leaving the legacy session whole.
   * The layer's limits hold as for a handler's writes: a value above `maxValueBytes` is left out too,
   * and so are the fields after the first `maxFields` (one warning, with their count: names beyond a
   * limit are likely chosen by clients), so a migrated session is never one the layer would not have
   * let the app build (above the limit every new field, a login's `user` say, would be refused until
   * enough fields were removed).
   */
  #encode(fields: LegacyFields): Array<[string, Uint8Array]> {
    const { codec, maxValueBytes, storeMaxFields = Number.POSITIVE_INFINITY } = this.#layer
    const entries: Array<[string, Uint8Array]> = []
    let failure: unknown
    let beyondLimit = 0
    for (const field of Object.keys(fields)) {
      const value = fields[field]
      // A name no store can hold (empty, NUL, a lone surrogate, over 1024 bytes) is left behind.
      if (value === undefined || !isFieldName(field)) continue
      if (entries.length >= storeMaxFields) {
        beyondLimit++
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = encodeValue(this.#layer, value)
      } catch (error) {
        failure ??= error
        this.#warnDropped(field)
        continue
      }
      if (bytes.byteLength > maxValueBytes) {
        failure ??= new SessionError(
          'ERR_SESSION_VALUE',
          `a value is above the layer's maxValueBytes (${maxValueBytes})`,
        )
        this.#warnDropped(field, `its value is above the layer's maxValueBytes (${maxValueBytes})`)
        continue
      }
      entries.push([field, bytes])
    }
    if (entries.length === 0 && failure !== undefined) {
      // The validation's message names the part by position, never a key or a value.
      const reason = failure instanceof SessionError ? `: ${failure.message}` : ''
      throw new SessionError(
        'ERR_SESSION_VALUE',
        `no value of the legacy session can be stored as ${codec.name}${reason}`,
      )
    }
    if (beyondLimit > 0) {
      this.#warn(
        `ruts: a legacy session held more than the layer's maxFields (${storeMaxFields}) fields: the ${beyondLimit} ` +
          'after the first are left out of the migrated session (choose them with legacySessions({ map }))',
      )
    }
    return entries
  }

  #warnDropped(field: string, reason = `it holds a value the ${this.#layer.codec.name} codec cannot store`): void {
    if (this.#dropped.has(field) || this.#dropped.size >= MAX_DROPPED_NAMES) return
    this.#dropped.add(field)
    this.#warn(
      `ruts: a legacy session field ${quoteField(field)} is left out of the migrated session: ${reason} ` +
        '(map it in legacySessions({ map }) to keep it)',
    )
  }

  /**
   * Create a fresh session with the first field, then write the others into it in parallel. A field
   * whose name the store refuses (`ERR_SESSION_ARGUMENT`: a name a LayeredStore reserves) is left out
   * and reported, as an unencodable value is. The session gets the layer's lifetimes, or the legacy
   * cookie's remaining lifetime when that is longer (its fields too: they would end the session's data
   * before the session otherwise), within `absoluteTimeout` and 400 days. With `idleTimeout` the idle
   * policy decides the session's lifetime from the first request on, as for every session; only the
   * fields keep the longer lifetime, for as long as the session stays in use.
   */
  async #store(
    entries: Array<[string, Uint8Array]>,
    expiresAt: number | undefined,
  ): Promise<MigratedSession | undefined> {
    const layer = this.#layer
    let fieldTtl = layer.cookie.maxAge
    let sessionTtl = layer.idleTimeout ?? fieldTtl
    const remaining = expiresAt === undefined ? 0 : Math.min(MAX_TTL, Math.ceil((expiresAt - Date.now()) / 1000))
    if (remaining > sessionTtl && layer.idleTimeout === undefined) sessionTtl = remaining
    if (remaining > fieldTtl) fieldTtl = remaining
    const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl, sessionTtl }
    if (layer.absoluteTimeout !== undefined) create.maxLifetime = layer.absoluteTimeout
    const pending = [...entries]
    for (let attempt = 0; attempt <= MAX_COLLISION_RETRIES; attempt++) {
      const first = pending[0]
      if (first === undefined) return undefined
      const id = createSessionId()
      const key = sessionKeyOf(id)
      const result = await this.#call('write', () => layer.store.write(key, first[0], first[1], create)).catch(
        this.#refusedName(first[0]),
      )
      if (result === REFUSED) {
        pending.shift()
        attempt--
        continue
      }
      if (result.status === 'collision') continue
      if (result.status === 'missing') break
      const existing: WriteOptions = { mode: 'update', session: 'existing', fieldTtl, sessionTtl }
      const writes = await Promise.all(
        pending
          .slice(1)
          .map(([field, bytes]) =>
            this.#call('write', () => layer.store.write(key, field, bytes, existing)).catch(this.#refusedName(field)),
          ),
      ).catch(async (error: unknown) => {
        await layer.store.delete(key).catch(() => false)
        throw error
      })
      if (writes.some((write) => write !== REFUSED && write.status !== 'written')) {
        await layer.store.delete(key).catch(() => false)
        throw new SessionError('ERR_SESSION_STORE', 'a migrated session ended while its fields were written', {
          status: 503,
        })
      }
      publishSessionEvent('created', layer.store.name)
      return { id, key }
    }
    throw new SessionError('ERR_SESSION_COLLISION', 'could not find a free session id')
  }

  /** A rejection handler: a field name the store refuses becomes {@link REFUSED}, reported once. */
  #refusedName(field: string): (error: unknown) => typeof REFUSED {
    return (error) => {
      if ((error as { code?: unknown } | undefined)?.code !== 'ERR_SESSION_ARGUMENT') throw error
      this.#warnDropped(field, 'its name is reserved by the store')
      return REFUSED
    }
  }

  #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return callStore(this.#layer.store.name, operation, call)
  }
}

/** Forget entries whose window ended (oldest first, in insertion order), and the oldest beyond the bound. */
function pruneEnded(entries: Map<string, { readonly until: number }>, now: number): void {
  for (const [legacyId, entry] of entries) {
    if (entry.until > now && entries.size < MAX_FLIGHTS) break
    entries.delete(legacyId)
  }
}

/**
 * A legacy store's failure, on `ruts:session` as a `store-error` of the store `legacy`, as the layer's
 * own store failures are (its calls do not go through the layer's store tracing).
 *
 * @param operation - `load` or `destroy`
 * @returns a rejection handler that publishes and rethrows
 */
function reportLegacyFailure(operation: string): (error: unknown) => never {
  return (error) => {
    publishLegacyFailure(operation, error)
    throw error
  }
}

function publishLegacyFailure(operation: string, error: unknown): void {
  const code = error instanceof SessionError ? error.code : 'ERR_SESSION_STORE'
  publishSessionEvent('store-error', 'legacy', { operation, code })
}
