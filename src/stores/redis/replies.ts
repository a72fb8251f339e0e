import type { LiveSession } from '../../core/store.js'

/**
 * Readers for script replies. Both libraries return integers as numbers, bulk strings as `Buffer`s
 * (the store asks for buffers) and nil as `null`; anything else means a protocol mismatch, which
 * becomes a store error rather than a wrong answer.
 */

/** The reply as an array. */
export function list(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError('unexpected script reply')
  return reply
}

/** An integer element. */
export function int(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  throw new TypeError('unexpected script reply')
}

/** A bulk string element as bytes; `undefined` for nil. */
export function bytes(value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return Buffer.from(value)
  throw new TypeError('unexpected script reply')
}

/** A bulk string element as UTF-8 text (field names). */
export function text(value: unknown): string {
  const raw = bytes(value)
  if (raw === undefined) throw new TypeError('unexpected script reply')
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
}

/** `{ live, ttl, touched }` from the `pttl` and `touched` elements of a reply. */
export function liveSession(ttl: unknown, touched: unknown): LiveSession {
  return { live: true, ttl: int(ttl), touched: int(touched) === 1 }
}

/** A value as a `Buffer` view, without copying, for sending. */
export function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}
