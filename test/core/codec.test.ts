import { describe, expect, it } from 'vitest'
import { jsonCodec, msgpackCodec } from '../../src/core/codec.js'

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
