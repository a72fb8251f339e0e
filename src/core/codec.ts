import { Packr } from 'msgpackr'
import { SessionError } from './errors.js'
import type { IntegerFormat } from './integers.js'

/**
 * Encodes field values for the store. `validate` runs at the write call so a value the codec
 * cannot round-trip is rejected there, with `ERR_SESSION_VALUE`, and never reaches the store.
 */
export interface Codec {
  /** Short name, e.g. `'msgpack'`. */
  readonly name: string
  /** @throws SessionError `ERR_SESSION_VALUE` when the value cannot round-trip */
  validate?(value: unknown): void
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
  /**
   * How this codec spells a safe integer, when it is one a store can add to on its own side (see
   * {@link IntegerFormat}). Without it, `Session.increment` fails with `ERR_SESSION_UNSUPPORTED`.
   */
  readonly integerFormat?: IntegerFormat
}

/** A codec by name, or a custom `{ encode, decode }`. */
export type CodecOption = 'msgpack' | 'json' | Codec

const MAX_DEPTH = 64

type Kind = 'msgpack' | 'json'

/**
 * Walk a value and throw `ERR_SESSION_VALUE` at the first part the codec would not give back
 * unchanged: functions, symbols, class instances, cycles, non-finite numbers in JSON, Maps/Sets,
 * own `__proto__` keys in MessagePack (msgpackr renames them), and so on.
 */
function assertRoundTrips(value: unknown, kind: Kind, path: string, depth: number, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (kind === 'json' && !Number.isFinite(value)) fail(path, 'a non-finite number becomes null in JSON')
      return
    case 'bigint':
      if (kind === 'json') fail(path, 'a bigint cannot be encoded as JSON')
      if (value < -(2n ** 63n) || value >= 2n ** 64n) fail(path, 'a bigint outside 64 bits cannot be encoded')
      return
    case 'undefined':
      if (kind === 'json' || depth === 0) fail(path, 'undefined cannot be stored; use remove()')
      return
    case 'object':
      break
    default:
      fail(path, `a ${typeof value} cannot be stored`)
  }
  if (value === null) return
  if (depth >= MAX_DEPTH) fail(path, `values nest at most ${MAX_DEPTH} levels`)
  if (seen.has(value)) fail(path, 'a value with a cycle cannot be stored')
  if (kind === 'msgpack' && (value instanceof Date || value instanceof Uint8Array)) return
  seen.add(value)
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      assertRoundTrips(value[index], kind, `${path}[${index}]`, depth + 1, seen)
    }
  } else {
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) {
      fail(path, 'only plain objects, arrays and primitives round-trip (convert class instances first)')
    }
    for (const key of Object.keys(value)) {
      if (kind === 'msgpack' && key === '__proto__') fail(path, 'an own "__proto__" key does not round-trip')
      const item = (value as Record<string, unknown>)[key]
      // JSON drops undefined members silently: reject so the read-back equals the write.
      assertRoundTrips(item, kind, `${path}.${key}`, depth + 1, seen)
    }
  }
  seen.delete(value)
}

function fail(path: string, reason: string): never {
  throw new SessionError('ERR_SESSION_VALUE', `session value ${path}: ${reason}`)
}

/**
 * MessagePack via msgpackr: compact, binary-safe, keeps `Date`, `Uint8Array`, `bigint` (64-bit) and
 * `undefined` members. Decoding never assigns `__proto__` (msgpackr guards it), so a stored value
 * cannot change a prototype.
 */
export function msgpackCodec(): Codec {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'bigint' })
  return {
    name: 'msgpack',
    integerFormat: 'msgpack',
    validate: (value) => assertRoundTrips(value, 'msgpack', '$', 0, new Set()),
    encode: (value) => packr.pack(value),
    decode: (bytes) => packr.unpack(bytes),
  }
}

/**
 * JSON as UTF-8 bytes: readable in the store, but only JSON types round-trip. `JSON.parse` defines
 * `__proto__` as an ordinary own property, so decoding cannot change a prototype.
 */
export function jsonCodec(): Codec {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  return {
    name: 'json',
    integerFormat: 'json',
    validate: (value) => assertRoundTrips(value, 'json', '$', 0, new Set()),
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)),
  }
}

/**
 * @param option - `'msgpack'` (default), `'json'`, or a custom codec
 * @returns the codec instance
 */
export function resolveCodec(option: CodecOption = 'msgpack'): Codec {
  if (option === 'msgpack') return msgpackCodec()
  if (option === 'json') return jsonCodec()
  return option
}
