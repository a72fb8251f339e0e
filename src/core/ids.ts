import { createHash } from 'node:crypto'
import type { SessionKey } from './store.js'

/** Length of a session id: 16 random bytes as base64url without padding. */
export const ID_LENGTH = 22

const ID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/

/**
 * Mint a session id: 128 bits from the platform CSPRNG (`crypto.getRandomValues`, available on
 * Node, Bun, Deno and Workers), base64url without padding.
 *
 * @returns a 22-character id
 */
export function createSessionId(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString('base64url')
}

/**
 * Whether a value has exactly the shape of an id this library issues. Anything else is ignored
 * before any store access. The last character carries only 2 significant bits, so a canonical
 * encoding of 16 bytes can only end in `A`, `Q`, `g` or `w`.
 *
 * @param value - candidate from a cookie
 * @returns `true` for a well-formed id
 */
export function isSessionId(value: string): boolean {
  return value.length === ID_LENGTH && ID_PATTERN.test(value)
}

/**
 * The store key of an id: base64url SHA-256. One-way, so a store dump cannot be replayed as
 * cookies, and store lookups are keyed by values an attacker cannot steer toward real keys.
 *
 * `node:crypto` is used for its synchronous hash; Bun, Deno and Workers (`nodejs_compat`) provide it.
 *
 * @param id - a well-formed session id
 * @returns the 43-character key
 */
export function sessionKeyOf(id: string): SessionKey {
  return createHash('sha256').update(id).digest('base64url')
}
