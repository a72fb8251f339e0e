import { publishSessionEvent } from './diagnostics.js'
import { isSessionId, sessionKeyOf } from './ids.js'
import type { CookieSigner } from './signing.js'
import type { SessionKey } from './store.js'

/** A session id the request presented, with its store key. */
export interface Candidate {
  readonly id: string
  readonly key: SessionKey
  /** Signed by an older secret: re-issue the cookie once the session proves live. */
  readonly stale: boolean
  /**
   * The cookie value as presented, when it is exactly what the current secret would produce for
   * `id` (HMAC is deterministic): re-issuing the cookie can send it again instead of re-signing.
   */
  readonly cookieValue?: string
}

/**
 * Well-formed cookie values looked at per request: one request never costs more than this
 * many HMACs and store round trips, whatever its headers hold. Browsers send one session cookie, two
 * or three only when an old `Path` or `Domain` variant lingers.
 */
export const MAX_CANDIDATES = 3

/** Cookie values remembered per generation; two generations are kept. */
const GENERATION_SIZE = 2048

/**
 * Turns the session cookie's values into candidates, remembering the values that checked out.
 *
 * Checking a value costs an HMAC (~3 µs) and a SHA-256 for the store key; a browser sends the same
 * cookie on every request, so a value that verified is remembered with its candidate and the next
 * request with it skips both. Only values that passed every check are remembered: a forged or
 * malformed value is checked in full, constant-time, every time it is presented. The lookup is an
 * ordinary Map lookup of the whole value, so its timing can only tell an attacker whether that
 * exact value is a correctly signed cookie, which the response says anyway.
 *
 * The memory is bounded by two generations of {@link GENERATION_SIZE} values: when the current one
 * fills up it becomes the previous one and the older is dropped whole, which keeps every operation
 * O(1) (a hit in the previous generation is carried into the current one).
 */
export class CandidateReader {
  readonly #signer: CookieSigner | undefined
  readonly #store: string
  #current = new Map<string, Candidate>()
  #previous = new Map<string, Candidate>()

  /**
   * @param signer - the layer's signer, when signing is on
   * @param store - the store's name, for the `invalid` event of a rejected cookie value
   */
  constructor(signer: CookieSigner | undefined, store: string) {
    this.#signer = signer
    this.#store = store
  }

  /**
   * The correctly signed ids among the first {@link MAX_CANDIDATES} well-formed values of the session
   * cookie (shaped like an id, or a signed id when signing is on), in header order and without
   * repeats. A malformed value is skipped for free; a well-formed one counts whether or not it
   * verifies, so a flood of forged values costs at most three HMACs. Everything is decided here,
   * before any store access.
   *
   * @param values - every value of the session cookie, in header order
   * @returns at most three candidates; the first one that names a live session wins
   */
  read(values: readonly string[]): Candidate[] {
    const candidates: Candidate[] = []
    let examined = 0
    for (const value of values) {
      if (examined === MAX_CANDIDATES) break
      if (!(this.#signer ? this.#signer.wellFormed(value) : isSessionId(value))) {
        publishSessionEvent('invalid', this.#store)
        continue
      }
      examined++
      const candidate = this.#check(value)
      if (candidate === undefined || candidates.some((seen) => seen.id === candidate.id)) continue
      candidates.push(candidate)
    }
    return candidates
  }

  #check(value: string): Candidate | undefined {
    const known = this.#current.get(value)
    if (known !== undefined) return known
    const earlier = this.#previous.get(value)
    if (earlier !== undefined) {
      this.#remember(value, earlier)
      return earlier
    }
    const verified = this.#signer ? this.#signer.verify(value) : { id: value, secretIndex: 0 }
    if (verified === undefined || !isSessionId(verified.id)) {
      publishSessionEvent('invalid', this.#store)
      return undefined
    }
    const key = sessionKeyOf(verified.id)
    const candidate: Candidate = Object.freeze(
      verified.secretIndex > 0
        ? { id: verified.id, key, stale: true }
        : { id: verified.id, key, stale: false, cookieValue: value },
    )
    this.#remember(value, candidate)
    return candidate
  }

  #remember(value: string, candidate: Candidate): void {
    if (this.#current.size >= GENERATION_SIZE) {
      this.#previous = this.#current
      this.#current = new Map()
    }
    this.#current.set(value, candidate)
  }
}
