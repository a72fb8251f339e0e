import { SessionError } from './errors.js'
import { isFieldName } from './fields.js'
import { createSessionId, sessionKeyOf } from './ids.js'
import type { SessionLayer } from './layer.js'
import { encodeValue } from './session-values.js'
import type { SessionKey, WriteOptions } from './store.js'
import { callStore } from './timeout.js'

/** Fields carried over from another library's session: field name → value. */
export type LegacyFields = Record<string, unknown>

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
   * The fields to carry over, or `undefined` when the legacy store no longer holds the session.
   * Bounded in time; a failure rejects with a `SessionStoreError`.
   */
  load(legacyId: string): Promise<LegacyFields | undefined>
  /** Destroy the legacy session. Bounded in time; a failure rejects with a `SessionStoreError`. */
  destroy(legacyId: string): Promise<void>
}

/** What a migration takes from its layer: where sessions go, how values are encoded, their lifetimes. */
export type MigrationTarget = Pick<SessionLayer, 'store' | 'codec' | 'cookie' | 'idleTimeout' | 'absoluteTimeout'>

/** A ruts session holding a legacy session's data. */
export interface MigratedSession {
  readonly id: string
  readonly key: SessionKey
}

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

  /**
   * @param source - where legacy sessions come from
   * @param layer - the layer whose store, codec and lifetimes the migrated session gets
   */
  constructor(source: LegacySessionSource, layer: MigrationTarget) {
    this.source = source
    this.#layer = layer
    this.#graceMs = source.graceMs ?? DEFAULT_GRACE_MS
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
    const fields = await this.source.load(legacyId)
    const earlier = this.#unsettled.get(legacyId)
    this.#unsettled.delete(legacyId)
    const current = earlier !== undefined && earlier.until > Date.now() ? earlier.session : undefined
    // Gone from the legacy store after a destroy that failed: that destroy ran after all, and the
    // copy holds the data (the request's first store call confirms it is still live).
    if (fields === undefined) return current
    // Still whole: the earlier copy, which nobody holds a cookie for, gives way to a new migration.
    if (earlier !== undefined) await this.#layer.store.delete(earlier.session.key).catch(() => false)
    const entries = this.#encode(fields)
    if (entries.length > 0) return this.#store(entries)
    // Nothing to carry over: the legacy session goes now, as a logged-out visitor's would.
    await this.source.destroy(legacyId)
    return undefined
  }

  #keepUnsettled(legacyId: string, session: MigratedSession): void {
    const now = Date.now()
    pruneEnded(this.#unsettled, now)
    this.#unsettled.set(legacyId, { session, until: now + this.#graceMs })
  }

  #encode(fields: LegacyFields): Array<[string, Uint8Array]> {
    const codec = this.#layer.codec
    const entries: Array<[string, Uint8Array]> = []
    for (const field of Object.keys(fields)) {
      const value = fields[field]
      // A name no store can hold (empty, NUL, a lone surrogate, over 1024 bytes) is left behind.
      if (value === undefined || !isFieldName(field)) continue
      try {
        entries.push([field, encodeValue(this.#layer, value)])
      } catch (error) {
        // The validation's message names the part by position, never a key or a value.
        const reason = error instanceof SessionError ? `: ${error.message}` : ''
        throw new SessionError(
          'ERR_SESSION_VALUE',
          `a legacy session value cannot be encoded as ${codec.name}${reason}`,
        )
      }
    }
    return entries
  }

  /** Create a fresh session with the first field, then write the others into it in parallel. */
  async #store(entries: Array<[string, Uint8Array]>): Promise<MigratedSession> {
    const layer = this.#layer
    const { maxAge } = layer.cookie
    const sessionTtl = layer.idleTimeout ?? maxAge
    const [first, ...rest] = entries as [[string, Uint8Array], ...Array<[string, Uint8Array]>]
    const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl: maxAge, sessionTtl }
    if (layer.absoluteTimeout !== undefined) create.maxLifetime = layer.absoluteTimeout
    for (let attempt = 0; attempt <= MAX_COLLISION_RETRIES; attempt++) {
      const id = createSessionId()
      const key = sessionKeyOf(id)
      const result = await this.#call('write', () => layer.store.write(key, first[0], first[1], create))
      if (result.status === 'collision') continue
      if (result.status === 'missing') break
      const existing: WriteOptions = { mode: 'update', session: 'existing', fieldTtl: maxAge, sessionTtl }
      const writes = await Promise.all(
        rest.map(([field, bytes]) => this.#call('write', () => layer.store.write(key, field, bytes, existing))),
      ).catch(async (error: unknown) => {
        await layer.store.delete(key).catch(() => false)
        throw error
      })
      if (writes.some((write) => write.status !== 'written')) {
        await layer.store.delete(key).catch(() => false)
        throw new SessionError('ERR_SESSION_STORE', 'a migrated session ended while its fields were written', {
          status: 503,
        })
      }
      return { id, key }
    }
    throw new SessionError('ERR_SESSION_COLLISION', 'could not find a free session id')
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
