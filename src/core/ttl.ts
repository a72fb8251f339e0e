import { MAX_COOKIE_AGE } from './cookie.js'
import { SessionError } from './errors.js'
import type { PlacementOptions } from './store.js'

/**
 * Longest TTL anything takes, in seconds: 400 days, the cookie's own cap (RFC 6265bis). A field,
 * a hot copy or an `expire()` beyond it could only outlive every cookie that names the session, and
 * unbounded values broke the backends (Redis kept a key that never expires, Postgres overflowed).
 */
export const MAX_TTL = MAX_COOKIE_AGE

/**
 * @param value - a TTL from a caller
 * @param min - the smallest value allowed (`0` for `expire()`, which then deletes)
 * @returns whether it is whole seconds from `min` to {@link MAX_TTL}
 */
export function isTtl(value: unknown, min = 1): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= MAX_TTL
}

/**
 * The TTL rule of the store contract, for a store to check before any backend call: every
 * lifetime a write carries is whole seconds from 1 to {@link MAX_TTL}; a `maxFields` it carries is
 * a whole number ≥ 1.
 *
 * @param options - the write's options
 * @throws SessionError `ERR_SESSION_ARGUMENT` for a lifetime out of range, or a bad `maxFields`
 */
export function checkWriteTtls(options: PlacementOptions): void {
  const { fieldTtl, sessionTtl, maxLifetime } = options
  if (!isTtl(fieldTtl) || !isTtl(sessionTtl) || (maxLifetime !== undefined && !isTtl(maxLifetime))) {
    throw ttlError('write lifetimes')
  }
  const { maxFields } = options
  if (maxFields !== undefined && !(Number.isSafeInteger(maxFields) && maxFields >= 1)) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'maxFields must be a whole number ≥ 1')
  }
}

/**
 * The TTL rule of the store contract for `expire()`: whole seconds from 0 to {@link MAX_TTL}.
 *
 * @param seconds - the new remaining lifetime
 * @throws SessionError `ERR_SESSION_ARGUMENT` when out of range
 */
export function checkExpireSeconds(seconds: number): void {
  if (!isTtl(seconds, 0)) throw ttlError('expire()', 0)
}

/**
 * @param what - the value or call that was out of range
 * @param min - its smallest allowed value
 * @returns the `ERR_SESSION_ARGUMENT` error naming the 400-day bound
 */
export function ttlError(what: string, min = 1): SessionError {
  return new SessionError('ERR_SESSION_ARGUMENT', `${what} must be whole seconds from ${min} to ${MAX_TTL} (400 days)`)
}
