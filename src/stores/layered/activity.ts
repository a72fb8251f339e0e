import type { FieldRead, SessionKey, TouchOptions } from '../../core/store.js'

/**
 * A read or write in flight on one session, told when something it depends on changed meanwhile.
 * A read that overlapped a change must not warm hot with what it read from cold, nor remember a
 * miss: its value may already be older than the change.
 */
export interface Flight {
  readonly key: SessionKey
  readonly field: string
  /** A write to this field, or a session-level change, started or finished during the flight. */
  fieldChanged: boolean
  /** A session-level change (delete, expire, rename) started or finished during the flight. */
  sessionChanged: boolean
  /** Any change to the session, of any field, started or finished during the flight. */
  anyChange: boolean
  /** When the read began (`Date.now()`): a miss it saw is remembered for `missTtl` from then. */
  readonly started: number
}

interface KeyState {
  /** Writes in flight per field. */
  readonly writes: Map<string, number>
  /** Session-level changes in flight. */
  moves: number
  readonly flights: Set<Flight>
}

interface Miss {
  /** Local clock (ms) until which the miss may be answered from memory. */
  until: number
  /** When it was seen, and the session's remaining lifetime then (live sessions only). */
  at: number
  ttl: number
}

interface KeyMisses {
  dead?: Miss
  readonly fields: Map<string, Miss>
}

/** Sessions with remembered misses per generation; two generations are kept. */
const MISS_GENERATION_SIZE = 5_000

/**
 * What this process is doing to each session right now, and the misses it remembers. Everything is
 * in process memory; nothing here is ever written to a store.
 */
export class KeyActivity {
  readonly #keys = new Map<SessionKey, KeyState>()
  // Two generations, the older dropped whole when the newer fills up: every operation is O(1) under
  // any input. (A prune that scanned the whole map on each new miss cost 40 ms per request under a
  // flood of dead cookies; deleting from the front of one Map instead leaves holes that each
  // `keys().next()` must skip.)
  #misses = new Map<SessionKey, KeyMisses>()
  #olderMisses = new Map<SessionKey, KeyMisses>()
  readonly #missTtl: number

  /** @param missTtl - milliseconds a miss is remembered; `0` remembers none */
  constructor(missTtl: number) {
    this.#missTtl = missTtl
  }

  /**
   * Announce a change to sessions; call the returned function when it is done (hot step included).
   * Both ends mark overlapping flights and drop remembered misses, so a miss never hides a write
   * made here and a read that straddles a write never warms hot with the older value.
   *
   * @param keys - every key the change touches (both ends of a rename)
   * @param field - the field written, or `undefined` for a session-level change
   * @returns the end of the change
   */
  change(keys: readonly SessionKey[], field: string | undefined): () => void {
    for (const key of keys) this.#mark(key, field, +1)
    return () => {
      for (const key of keys) this.#mark(key, field, -1)
    }
  }

  /**
   * @param key - session key
   * @param field - the field read or written
   * @returns a flight to check with {@link KeyActivity.unchanged}; {@link KeyActivity.end} it after
   */
  begin(key: SessionKey, field: string): Flight {
    const flight: Flight = {
      key,
      field,
      fieldChanged: false,
      sessionChanged: false,
      anyChange: false,
      started: Date.now(),
    }
    this.#state(key).flights.add(flight)
    return flight
  }

  /** @param flight - a flight that finished */
  end(flight: Flight): void {
    const state = this.#keys.get(flight.key)
    state?.flights.delete(flight)
    if (state !== undefined) this.#release(flight.key, state)
  }

  /**
   * @param flight - the caller's flight
   * @param own - what the caller itself has in flight on the key (not counted against it)
   * @returns `true` when nothing else touched the flight's field or session since it began
   */
  unchanged(flight: Flight, own: 'read' | 'write' | 'move' = 'read'): boolean {
    const state = this.#keys.get(flight.key)
    if (flight.fieldChanged || state === undefined) return !flight.fieldChanged
    const writes = state.writes.get(flight.field) ?? 0
    return writes <= (own === 'write' ? 1 : 0) && state.moves <= (own === 'move' ? 1 : 0)
  }

  /**
   * @param flight - the caller's flight
   * @returns `true` when no session-level change overlapped it
   */
  sessionUnchanged(flight: Flight): boolean {
    return !flight.sessionChanged && (this.#keys.get(flight.key)?.moves ?? 0) === 0
  }

  /**
   * @param key - session key
   * @returns `true` while a delete, expire or rename of the session is in flight here
   */
  moving(key: SessionKey): boolean {
    return (this.#keys.get(key)?.moves ?? 0) > 0
  }

  /**
   * A remembered miss for the field, unless a sliding refresh would be due by now.
   *
   * @param key - session key
   * @param field - field name
   * @param touch - the read's sliding refresh
   * @returns the read to answer with, or `undefined` to ask the stores
   */
  recall(key: SessionKey, field: string, touch: TouchOptions | undefined): FieldRead | undefined {
    const misses = this.#misses.get(key) ?? this.#olderMisses.get(key)
    if (misses === undefined) return undefined
    const now = Date.now()
    if (misses.dead !== undefined && misses.dead.until > now) return { live: false }
    const miss = misses.fields.get(field)
    if (miss === undefined || miss.until <= now) return undefined
    const ttl = miss.ttl - (now - miss.at)
    if (ttl <= 0 || (touch !== undefined && ttl <= (touch.ttl - touch.threshold) * 1000)) return undefined
    return { live: true, ttl, touched: false, value: undefined }
  }

  /**
   * Remember that a field (or the whole session) is missing, unless the flight overlapped a change.
   *
   * @param flight - the read that saw the miss
   * @param read - what it answers
   */
  remember(flight: Flight, read: FieldRead): void {
    // "No session" depends on every write (one may have created it), a missing field on its own.
    if (this.#missTtl <= 0 || !this.unchanged(flight) || (!read.live && flight.anyChange)) return
    // From the read's start, not its end: a write another process made after the read began is hidden
    // for at most missTtl, however long the cold read took.
    const now = Date.now()
    const until = flight.started + this.#missTtl
    if (until <= now) return
    let misses = this.#misses.get(flight.key)
    if (misses === undefined) {
      misses = this.#olderMisses.get(flight.key) ?? { fields: new Map() }
      this.#olderMisses.delete(flight.key)
      if (this.#misses.size >= MISS_GENERATION_SIZE) {
        this.#olderMisses = this.#misses
        this.#misses = new Map()
      }
      this.#misses.set(flight.key, misses)
    }
    const miss: Miss = { until, at: now, ttl: read.live ? read.ttl : 0 }
    if (read.live) misses.fields.set(flight.field, miss)
    else misses.dead = miss
  }

  #mark(key: SessionKey, field: string | undefined, step: 1 | -1): void {
    const state = this.#state(key)
    this.#misses.delete(key)
    this.#olderMisses.delete(key)
    if (field === undefined) state.moves += step
    else state.writes.set(field, (state.writes.get(field) ?? 0) + step)
    for (const flight of state.flights) {
      flight.anyChange = true
      if (field === undefined) flight.sessionChanged = true
      if (field === undefined || flight.field === field) flight.fieldChanged = true
    }
    if (step === -1) this.#release(key, state)
  }

  #state(key: SessionKey): KeyState {
    let state = this.#keys.get(key)
    if (state === undefined) {
      state = { writes: new Map(), moves: 0, flights: new Set() }
      this.#keys.set(key, state)
    }
    return state
  }

  /** Drop the bookkeeping of a session nothing is doing anything to any more. */
  #release(key: SessionKey, state: KeyState): void {
    for (const [field, count] of state.writes) if (count === 0) state.writes.delete(field)
    if (state.moves === 0 && state.writes.size === 0 && state.flights.size === 0) this.#keys.delete(key)
  }
}
