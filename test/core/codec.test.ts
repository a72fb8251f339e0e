import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type Codec, jsonCodec, msgpackCodec } from '../../src/core/codec.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

const roundTrip = (codec: ReturnType<typeof msgpackCodec>, value: unknown) => {
  codec.validate?.(value)
  return codec.decode(codec.encode(value))
}
const rejects = (codec: ReturnType<typeof msgpackCodec>, value: unknown) => {
  try {
    codec.validate?.(value)
  } catch (error) {
    return (error as { code?: string }).code
  }
  return 'accepted'
}

describe('msgpack codec', () => {
  const codec = msgpackCodec()
  it('round-trips plain data, dates, bytes, 64-bit bigints and nested undefined', () => {
    const value = {
      n: 1.5,
      big: 2n ** 62n,
      s: 'é😀',
      d: new Date(1000),
      b: new Uint8Array([0, 1]),
      u: undefined,
      a: [1, [2]],
    }
    expect(roundTrip(codec, value)).toEqual({ ...value, b: Buffer.from([0, 1]) })
  })
  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
    ['a class instance', new (class Point {})()],
    ['a Map', new Map()],
    ['top-level undefined', undefined],
    ['an own __proto__ key', JSON.parse('{"__proto__": {"admin": true}}')],
    ['a bigint above 64 bits', 2n ** 64n],
  ])('rejects %s with ERR_SESSION_VALUE', (_, value) => {
    expect(rejects(codec, value)).toBe('ERR_SESSION_VALUE')
  })
  it('rejects cycles and absurd nesting', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(rejects(codec, cyclic)).toBe('ERR_SESSION_VALUE')
    let deep: unknown = 1
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(rejects(codec, deep)).toBe('ERR_SESSION_VALUE')
  })
  it('accepts the same object twice (a DAG is not a cycle)', () => {
    const shared = { x: 1 }
    expect(roundTrip(codec, { a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })
  it('rejects lone surrogates in strings and keys: UTF-8 would turn them into U+FFFD', () => {
    expect(rejects(codec, 'a\ud800')).toBe('ERR_SESSION_VALUE')
    expect(rejects(codec, { list: ['ok', 'b\udc00'] })).toBe('ERR_SESSION_VALUE')
    // Three keys that msgpack would have stored as one.
    expect(rejects(codec, { 'k\ud800': 1, 'k\udbff': 2, 'k\ufffd': 3 })).toBe('ERR_SESSION_VALUE')
    expect(roundTrip(codec, { 'k\ufffd': '\u{1F600}' })).toEqual({ 'k\ufffd': '\u{1F600}' })
  })
  it('names the failing part by position, never by an object key (keys can be data)', () => {
    const value = { 'alice@example.com': { note: [1, () => 1] } }
    let message = ''
    try {
      codec.validate?.(value)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe('session value $.(key 0).(key 0)[1]: a function cannot be stored')
  })
  it.each([
    ['a Set', 'd4730090'], // ext 0x73 around an empty array
    ['an Error', 'c7036592a14580'],
    ['a RegExp', 'c7037892a178a0'],
    ['the 0xc1 marker', 'c1'],
    ['a BigUint64Array', 'c709740a' + '00'.repeat(8)],
  ])('refuses to decode %s, which no validated write produces', (_, hex) => {
    expect(() => codec.decode(Buffer.from(hex, 'hex'))).toThrow()
  })
  it('decodes forged bytes of every extension kind to plain data or an error, never anything else', () => {
    for (let type = 0; type < 256; type++) {
      for (const body of ['', '00', '9100', '92a1789100']) {
        const length = body.length / 2
        const bytes = Buffer.from(
          `c7${length.toString(16).padStart(2, '0')}${type.toString(16).padStart(2, '0')}${body}`,
          'hex',
        )
        let decoded: unknown
        try {
          decoded = codec.decode(bytes)
        } catch {
          continue
        }
        const plain =
          decoded === undefined ||
          decoded === null ||
          typeof decoded !== 'object' ||
          decoded instanceof Date ||
          Buffer.isBuffer(decoded) ||
          Object.getPrototypeOf(decoded) === Object.prototype ||
          Array.isArray(decoded)
        expect({ type, body, plain }).toEqual({ type, body, plain: true })
      }
    }
  })
  it('never lets decoded data change a prototype', () => {
    const hostile = Buffer.from('81a95f5f70726f746f5f5f81a561646d696ec3', 'hex') // {"__proto__":{"admin":true}}
    const decoded = codec.decode(hostile) as Record<string, unknown>
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    expect(decoded.admin).toBeUndefined()
  })
})

describe('json codec', () => {
  const codec = jsonCodec()
  it('round-trips JSON data and keeps __proto__ as an ordinary key', () => {
    const value = JSON.parse('{"__proto__": {"admin": true}, "list": [1, "a", null, {"b": false}]}')
    const decoded = roundTrip(codec, value) as Record<string, unknown>
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 1n],
    ['a Date', new Date()],
    ['a nested undefined', { a: undefined }],
    ['bytes', new Uint8Array(1)],
  ])('rejects %s with ERR_SESSION_VALUE', (_, value) => {
    expect(rejects(codec, value)).toBe('ERR_SESSION_VALUE')
  })
})

describe('a custom codec', () => {
  it('whose encode returns no Uint8Array fails the write as a value error, before the store', async () => {
    const store = countingStore(new MemoryStore())
    const text = { name: 'text', encode: (value: unknown) => JSON.stringify(value), decode: () => undefined }
    const session = new SessionLayer({ store, codec: text as unknown as Codec }).open(undefined)
    const error = await session.update('a', 1).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(store.total()).toBe(0)
  })
})

describe('values that do not read back as written', () => {
  const sparse: unknown[] = [1]
  sparse[2] = 3
  it.each([
    ['an array with a named member', Object.assign([1, 2], { role: 'admin' })],
    ['a sparse array with a named member', Object.assign(sparse.slice(), { role: 'admin' })],
    ['an enumerable symbol-keyed member', { a: 1, [Symbol('tag')]: 2 }],
  ])('rejects %s under both codecs', (_, value) => {
    for (const codec of [msgpackCodec(), jsonCodec()]) expect(rejects(codec, value)).toBe('ERR_SESSION_VALUE')
  })
  it('still takes a sparse array under msgpack (its holes read back as undefined)', () => {
    expect(roundTrip(msgpackCodec(), sparse)).toEqual([1, undefined, 3])
  })
  it('fails a write whose value cannot be read (a throwing getter, a revoked Proxy) as a value error', async () => {
    const store = countingStore(new MemoryStore())
    const session = new SessionLayer({ store }).open(undefined)
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const throwing = {
      get x(): never {
        throw new Error('SECRET from the getter')
      },
    }
    for (const value of [throwing, proxy, { nested: [throwing] }]) {
      const error = await session.update('a', value).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect(String((error as Error).message)).not.toContain('SECRET')
    }
    const meta = await session.setSubject('user:1', { meta: throwing as never }).catch((caught: unknown) => caught)
    expect(meta).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    // Through a schema too, which reads the value first.
    const typed = new SessionLayer({ store, fields: { a: z.object({ x: z.string() }), b: z.any() } }).open(undefined)
    for (const [field, value] of [
      ['a', throwing],
      ['b', proxy],
    ] as const) {
      const error = await typed.update(field, value as never).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect(String((error as Error).message)).not.toContain('SECRET')
    }
    expect(store.total()).toBe(0)
  })
})
