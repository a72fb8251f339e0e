import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto'
import { ID_LENGTH } from './ids.js'
import { optionError } from './validate.js'

/** Length of a base64url HMAC-SHA256 without padding. */
const SIGNATURE_LENGTH = 43
const SIGNED_LENGTH = ID_LENGTH + 1 + SIGNATURE_LENGTH
/** A secret with fewer distinct characters than this is refused as trivially repetitive. */
const MIN_DISTINCT_CHARACTERS = 8
const SIGNATURE = /^[A-Za-z0-9_-]+$/

/** An id read back from a signed cookie, and which secret verified it (0 = the current one). */
export interface VerifiedId {
  id: string
  secretIndex: number
}

/**
 * HMAC-SHA256 signing of session ids with secret rotation: the first secret signs, every secret
 * verifies. The cookie value is `<id>.<signature>`.
 */
export class CookieSigner {
  /** Key objects, created once: `createHmac` with a string key converts it on every call. */
  readonly #secrets: readonly KeyObject[]

  /**
   * @param secrets - one secret or a list, newest first
   * @throws SessionConfigError for an empty list, a secret shorter than 32 characters, or one with
   *   fewer than 8 distinct characters (`'a'.repeat(32)`)
   */
  constructor(secrets: string | readonly string[]) {
    const list = typeof secrets === 'string' ? [secrets] : [...secrets]
    if (list.length === 0) throw optionError('SessionLayer', 'secret', 'must not be an empty list')
    for (const secret of list) {
      if (typeof secret !== 'string' || secret.length < 32) {
        throw optionError('SessionLayer', 'secret', 'must be a string of at least 32 characters (each one of a list)')
      }
      if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) {
        throw optionError('SessionLayer', 'secret', `needs at least ${MIN_DISTINCT_CHARACTERS} distinct characters`)
      }
    }
    this.#secrets = list.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')))
  }

  /**
   * @param id - a session id
   * @returns `<id>.<signature>` signed with the first secret
   */
  sign(id: string): string {
    return `${id}.${this.#mac(this.#secrets[0] as KeyObject, id)}`
  }

  /**
   * The cheap shape check that comes before any HMAC: `<22 chars>.<43 chars>`.
   *
   * @param value - a cookie value
   * @returns whether it is shaped like a signed id (not whether it verifies)
   */
  wellFormed(value: string): boolean {
    return value.length === SIGNED_LENGTH && value.charCodeAt(ID_LENGTH) === 0x2e
  }

  /**
   * Verify a whole cookie value: exactly `<22-char id>.<43-char signature>`, nothing trailing.
   * The comparison is constant-time over equal-length buffers.
   *
   * @param value - the cookie value
   * @returns the id and the index of the secret that verified it, or `undefined`
   */
  verify(value: string): VerifiedId | undefined {
    if (!this.wellFormed(value)) return undefined
    const id = value.slice(0, ID_LENGTH)
    const signature = value.slice(ID_LENGTH + 1)
    // Only base64url reaches the byte comparison: `latin1` keeps the low byte of any wider character,
    // so U+0141 in place of "A" would otherwise compare equal.
    if (!SIGNATURE.test(signature)) return undefined
    const given = Buffer.from(signature, 'latin1')
    for (let index = 0; index < this.#secrets.length; index++) {
      const expected = Buffer.from(this.#mac(this.#secrets[index] as KeyObject, id), 'latin1')
      if (expected.length === given.length && timingSafeEqual(expected, given)) return { id, secretIndex: index }
    }
    return undefined
  }

  #mac(secret: KeyObject, id: string): string {
    return createHmac('sha256', secret).update(id).digest('base64url')
  }
}
