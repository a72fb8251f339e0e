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
 * The well-formed, correctly signed ids among the session cookie's values, in header order and
 * without repeats. Anything else is dropped here, before any store access.
 *
 * @param values - every value of the session cookie, in header order
 * @param signer - the layer's signer, when signing is on
 * @returns the candidates; the first one that names a live session wins
 */
export function presentedSessions(values: readonly string[], signer: CookieSigner | undefined): Candidate[] {
  const candidates: Candidate[] = []
  for (const value of values) {
    const verified = signer ? signer.verify(value) : { id: value, secretIndex: 0 }
    if (verified === undefined || !isSessionId(verified.id)) continue
    if (candidates.some((candidate) => candidate.id === verified.id)) continue
    const key = sessionKeyOf(verified.id)
    if (verified.secretIndex > 0) candidates.push({ id: verified.id, key, stale: true })
    else candidates.push({ id: verified.id, key, stale: false, cookieValue: value })
  }
  return candidates
}
