import { SessionError } from './errors.js'
import type { IncrementOptions } from './store.js'
import { checkWriteTtls } from './ttl.js'

/**
 * How a codec spells a whole number, so a store can add to a stored counter on its own side
 * (`increment`) and write back bytes the codec decodes to a `number`:
 *
 * - `'json'`: ASCII decimal, `-?(0|[1-9][0-9]*)` (what `JSON.stringify` writes for a safe integer);
 * - `'msgpack'`: the smallest MessagePack int of 32 bits or less (fixint, int8–32, uint8–32), and a
 *   float64 beyond that, as msgpackr writes it. An int64/uint64 is not accepted: msgpackr decodes
 *   it to a `bigint`, not a counter.
 *
 * Every store implements both on its own side (Lua in Redis, SQL functions in Postgres, the
 * functions below in memory); the conformance suite checks all of them against these.
 */
export type IntegerFormat = 'json' | 'msgpack'

const DECIMAL = /^-?(0|[1-9][0-9]{0,15})$/

/**
 * @param bytes - a stored field value
 * @param format - the codec's integer format
 * @returns the safe integer it holds, or `undefined` when it holds anything else
 */
export function decodeInteger(bytes: Uint8Array, format: IntegerFormat): number | undefined {
  if (format === 'json') {
    const text = new TextDecoder().decode(bytes)
    if (!DECIMAL.test(text)) return undefined
    const value = Number(text)
    return Number.isSafeInteger(value) ? value : undefined
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const head = bytes[0]
  if (head === undefined) return undefined
  const sized = (length: number, read: () => number): number | undefined =>
    bytes.length === length ? read() : undefined
  if (head < 0x80 || head >= 0xe0) return sized(1, () => view.getInt8(0))
  switch (head) {
    case 0xcc:
      return sized(2, () => view.getUint8(1))
    case 0xcd:
      return sized(3, () => view.getUint16(1))
    case 0xce:
      return sized(5, () => view.getUint32(1))
    case 0xd0:
      return sized(2, () => view.getInt8(1))
    case 0xd1:
      return sized(3, () => view.getInt16(1))
    case 0xd2:
      return sized(5, () => view.getInt32(1))
    case 0xcb: {
      const value = sized(9, () => view.getFloat64(1))
      return value !== undefined && Number.isSafeInteger(value) ? value : undefined
    }
    default:
      return undefined
  }
}

/**
 * @param value - a safe integer
 * @param format - the codec's integer format
 * @returns its bytes in that format
 */
export function encodeInteger(value: number, format: IntegerFormat): Uint8Array {
  if (format === 'json') return new TextEncoder().encode(String(value))
  const write = (head: number, length: number, set: (view: DataView) => void): Uint8Array => {
    const bytes = new Uint8Array(length + 1)
    bytes[0] = head
    set(new DataView(bytes.buffer, 1))
    return bytes
  }
  if (value >= 0) {
    if (value < 0x80) return Uint8Array.of(value)
    if (value <= 0xff) return Uint8Array.of(0xcc, value)
    if (value <= 0xffff) return write(0xcd, 2, (view) => view.setUint16(0, value))
    if (value <= 0xffffffff) return write(0xce, 4, (view) => view.setUint32(0, value))
  } else {
    if (value >= -32) return Uint8Array.of(value & 0xff)
    if (value >= -0x80) return write(0xd0, 1, (view) => view.setInt8(0, value))
    if (value >= -0x8000) return write(0xd1, 2, (view) => view.setInt16(0, value))
    if (value >= -0x80000000) return write(0xd2, 4, (view) => view.setInt32(0, value))
  }
  return write(0xcb, 8, (view) => view.setFloat64(0, value))
}

/**
 * The arithmetic of `increment`, as every store performs it on its own side.
 *
 * @param stored - the field's live bytes, or `undefined` when it is absent or expired (counts as 0)
 * @param by - a safe integer
 * @param format - the codec's integer format
 * @returns the new value and its bytes, or `undefined` when the field holds no safe integer or the
 *   sum leaves the safe range (nothing may change then)
 */
export function addToInteger(
  stored: Uint8Array | undefined,
  by: number,
  format: IntegerFormat,
): { value: number; bytes: Uint8Array } | undefined {
  const current = stored === undefined ? 0 : decodeInteger(stored, format)
  if (current === undefined) return undefined
  const value = current + by
  if (!Number.isSafeInteger(value)) return undefined
  return { value, bytes: encodeInteger(value, format) }
}

/**
 * The rule of the store contract for `increment`, for a store to check before any backend call:
 * lifetimes as for a write, a safe integer to add, a known integer format.
 *
 * @param options - the increment's options
 * @throws SessionError `ERR_SESSION_ARGUMENT` otherwise
 */
export function checkIncrement(options: IncrementOptions): void {
  checkWriteTtls(options)
  if (!Number.isSafeInteger(options.by)) throw new SessionError('ERR_SESSION_ARGUMENT', 'by must be a safe integer')
  if (options.format !== 'json' && options.format !== 'msgpack') {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'format must be json or msgpack')
  }
}
