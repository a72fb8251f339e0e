import { Packr } from 'msgpackr'
import { SessionError } from './errors.js'
import { quoteField } from './fields.js'
import type { IntegerFormat } from './integers.js'
import { optionError } from './validate.js'

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
 * own `__proto__` keys in MessagePack (msgpackr renames them), strings with a lone surrogate in
 * MessagePack (UTF-8 turns it into U+FFFD, so two keys could become one), and so on.
 *
 * The path in the message never repeats an object key, since keys can be data (a map of e-mail
 * addresses): `$[2].(key 1)` is the second own key, in `Object.keys` order, of the third element.
 */
function assertRoundTrips(
  value: unknown,
  kind: Kind,
  path: string,
  depth: number,
  seen: Set<object> | undefined,
): void {
  switch (typeof value) {
    case 'string':
      if (kind === 'msgpack' && !value.isWellFormed()) fail(path, LONE_SURROGATE)
      return
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
  if (seen?.has(value)) fail(path, 'a value with a cycle cannot be stored')
  if (kind === 'msgpack' && (value instanceof Date || value instanceof Uint8Array)) return
  // Created at the first object or array: a primitive value (a counter) needs no cycle check.
  const visited = seen ?? new Set<object>()
  visited.add(value)
  // Neither codec writes symbol keys: such a member would vanish.
  const symbols = Object.getOwnPropertySymbols(value)
  if (symbols.length > 0 && symbols.some((symbol) => Object.prototype.propertyIsEnumerable.call(value, symbol))) {
    fail(path, 'a symbol-keyed member does not round-trip')
  }
  if (Array.isArray(value)) {
    // Both codecs write an array's elements only: a named member (`list.total = 3`) would vanish.
    // Own keys list the indexes first, in order, so a named member is the last key if there is any.
    // (Listing them costs about as much as the walk below.)
    const last = Object.keys(value).at(-1)
    if (last !== undefined && !isIndex(last, value.length))
      fail(path, 'an array with named members does not round-trip')
    for (let index = 0; index < value.length; index++) {
      assertRoundTrips(value[index], kind, `${path}[${index}]`, depth + 1, visited)
    }
  } else {
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) {
      fail(path, 'only plain objects, arrays and primitives round-trip (convert class instances first)')
    }
    const keys = Object.keys(value)
    for (let position = 0; position < keys.length; position++) {
      const key = keys[position] as string
      const member = `${path}.(key ${position})`
      if (kind === 'msgpack' && key === '__proto__') fail(member, 'an own "__proto__" key does not round-trip')
      if (kind === 'msgpack' && !key.isWellFormed()) fail(member, `its key: ${LONE_SURROGATE}`)
      const item = (value as Record<string, unknown>)[key]
      // JSON drops undefined members silently: reject so the read-back equals the write.
      assertRoundTrips(item, kind, member, depth + 1, visited)
    }
  }
  visited.delete(value)
}

/** Whether an own key of an array is one of its element indexes. */
function isIndex(key: string, length: number): boolean {
  const index = Number(key)
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === key
}

const LONE_SURROGATE = 'a string with a lone surrogate does not round-trip in MessagePack'

function fail(path: string, reason: string): never {
  throw new SessionError('ERR_SESSION_VALUE', `session value ${path}: ${reason}`)
}

/**
 * What msgpackr may decode from bytes ruts did not write (a corrupt or forged store entry) but a
 * validated write never produces: its extensions give `Set`, `Error`, `RegExp`, typed arrays other
 * than bytes, and a marker object for the unused 0xc1. Such a value is refused like bytes that do not
 * decode at all. Plain data passes: primitives, arrays, plain objects, `Date`, `Uint8Array`/`Buffer`.
 */
function assertDecodedData(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return
  if (depth >= MAX_DEPTH) throw new TypeError('nested too deep')
  if (Array.isArray(value)) {
    for (const item of value) assertDecodedData(item, depth + 1)
    return
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype === Object.prototype || prototype === null) {
    for (const key in value) assertDecodedData((value as Record<string, unknown>)[key], depth + 1)
    return
  }
  if (value instanceof Date) return
  if (value instanceof Uint8Array && (value.constructor === Uint8Array || isBuffer(value))) return
  throw new TypeError('not session data')
}

const isBuffer = (value: Uint8Array): boolean =>
  (globalThis as { Buffer?: { isBuffer(value: unknown): boolean } }).Buffer?.isBuffer(value) === true

/**
 * MessagePack via msgpackr: compact, binary-safe, keeps `Date`, `Uint8Array`, `bigint` (64-bit) and
 * `undefined` members. Decoding never assigns `__proto__` (msgpackr guards it), so a stored value
 * cannot change a prototype, and decodes only plain data: msgpackr's extensions (`Set`, `Error`,
 * `RegExp`, cycles) are refused on read as they are on write. `-0` is stored as `0`, as in JSON.
 */
export function msgpackCodec(): Codec {
  const packr = new Packr({
    useRecords: false,
    mapsAsObjects: true,
    moreTypes: false,
    int64AsType: 'bigint',
    structuredClone: false,
  })
  return {
    name: 'msgpack',
    integerFormat: 'msgpack',
    validate: (value) => assertRoundTrips(value, 'msgpack', '$', 0, undefined),
    encode: (value) => packr.pack(value),
    decode: (bytes) => {
      const value = packr.unpack(bytes)
      assertDecodedData(value, 0)
      return value
    },
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
    validate: (value) => assertRoundTrips(value, 'json', '$', 0, undefined),
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)),
  }
}

/**
 * A stored field's bytes, decoded. Bytes that do not decode (another codec wrote them, the entry is
 * corrupt or forged) fail with `ERR_SESSION_VALUE` and a fixed message: the codec's own error is not
 * kept, not even as `cause`, because parsers quote the input they choke on (`JSON.parse`'s message
 * holds part of the text, msgpackr's the value read so far).
 *
 * @param codec - the layer's codec
 * @param field - the field's name (for the message)
 * @param bytes - what the store holds
 * @returns the value
 * @throws SessionError `ERR_SESSION_VALUE`
 */
export function decodeField(codec: Codec, field: string, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes)
  } catch (error) {
    throw new SessionError(
      'ERR_SESSION_VALUE',
      `session field ${quoteField(field)}: its stored value does not decode as ${codec.name} (${kindOf(error)})`,
    )
  }
}

/**
 * @param codec - the layer's codec
 * @param value - a value that passed `codec.validate`
 * @returns its bytes
 * @throws SessionError `ERR_SESSION_VALUE`, without the codec's error (it may quote the value)
 */
export function encodeField(codec: Codec, value: unknown): Uint8Array {
  let bytes: unknown
  try {
    bytes = codec.encode(value)
  } catch (error) {
    throw new SessionError('ERR_SESSION_VALUE', `session value cannot be encoded as ${codec.name} (${kindOf(error)})`)
  }
  // A custom codec that returns text or a Buffer-like would otherwise fail in the store, as a 503.
  if (!(bytes instanceof Uint8Array)) {
    throw new SessionError('ERR_SESSION_VALUE', `the ${codec.name} codec's encode must return a Uint8Array`)
  }
  return bytes
}

/**
 * @param error - anything thrown
 * @returns its class name only (`SyntaxError`), never its message
 */
export function kindOf(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name : typeof error
  return /^[A-Za-z][\w$]{0,63}$/.test(name) ? name : 'error'
}

/**
 * @param option - `'msgpack'` (default), `'json'`, or a custom codec
 * @returns the codec instance
 */
export function resolveCodec(option: CodecOption = 'msgpack'): Codec {
  if (option === 'msgpack') return msgpackCodec()
  if (option === 'json') return jsonCodec()
  // Named codecs are only these two; a custom one needs both halves (SPEC §5), checked here rather
  // than at the first write, which would blame the value (or the store).
  if (typeof option === 'string') {
    const text: string = option
    const named = text.length > 40 ? `${text.slice(0, 40)}…` : text
    throw optionError('SessionLayer', 'codec', `must be 'msgpack', 'json' or { name, encode, decode }, not '${named}'`)
  }
  const custom = option as Partial<Codec>
  if (typeof custom.encode !== 'function' || typeof custom.decode !== 'function') {
    throw optionError('SessionLayer', 'codec', 'needs encode and decode functions')
  }
  if (typeof custom.name !== 'string' || custom.name === '') {
    throw optionError('SessionLayer', 'codec', 'needs a name (it appears in error messages)')
  }
  return option
}
