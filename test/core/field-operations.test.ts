import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Codec } from '../../src/core/codec.js'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  )

/** A store that implements only the required part of the contract, like an older custom store. */
function basicStore(inner: SessionStore): SessionStore {
  const store: Record<string, unknown> = { name: 'basic' }
  for (const name of ['get', 'getAll', 'write', 'remove', 'delete', 'expire', 'rename'] as const) {
    store[name] = inner[name].bind(inner)
  }
  return store as unknown as SessionStore
}

type Data = { visits: number; attempts?: number; flash: string; user: { id: string } }

describe('Session.increment and Session.take', () => {
  for (const codec of ['msgpack', 'json'] as const) {
    it(`counts with ${codec}: returns the new value, and get returns a number`, async () => {
      const layer = new SessionLayer<Data>({ store: new MemoryStore(), codec })
      const session = layer.open(undefined)
      expect(await session.increment('visits')).toBe(1)
      expect(await session.increment('visits', 41)).toBe(42)
      expect(await session.increment('visits', -2)).toBe(40)
      const cookie = await session.commit()
      const next = layer.open(String(cookie).split(';')[0])
      expect(await next.get('visits')).toBe(40)
      expectTypeOf(await next.get('visits')).toEqualTypeOf<number | undefined>()
    })
  }

  it('creates the session in one store call and sends its cookie', async () => {
    const store = countingStore(new MemoryStore())
    const session = new SessionLayer({ store }).open(undefined)
    expect(await session.increment('n', 3)).toBe(3)
    expect(store.calls).toMatchObject({ increment: 1, write: 0, get: 0 })
    expect(await session.commit()).toMatch(/^session=/)
  })

  it('consumes a prepared regenerate like a write: the counter moves to the new id', async () => {
    const layer = new SessionLayer({ store: new MemoryStore() })
    const first = layer.open(undefined)
    await first.increment('n')
    const oldId = first.id
    const cookie = String(await first.commit()).split(';')[0]
    const second = layer.open(cookie)
    const prepared = second.prepareRegenerate()
    expect(await second.increment('n')).toBe(2)
    expect(second.id).toBe(prepared)
    expect(await layer.store.get(sessionKeyOf(oldId as string), 'n')).toEqual({ live: false })
  })

  it('refuses a field without a safe integer, and sums beyond the safe range, changing nothing', async () => {
    const layer = new SessionLayer<Data>({ store: new MemoryStore() })
    const session = layer.open(undefined)
    await session.update('flash', 'hello')
    // @ts-expect-error flash holds a string: not a counter
    expect(await codeOf(session.increment('flash'))).toBe('ERR_SESSION_VALUE')
    expect(await session.get('flash')).toBe('hello')
    expect(await session.increment('visits', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER)
    expect(await codeOf(session.increment('visits'))).toBe('ERR_SESSION_VALUE')
    expect(await session.get('visits')).toBe(Number.MAX_SAFE_INTEGER)
    for (const by of [1.5, Number.NaN, 2 ** 53]) {
      expect(await codeOf(session.increment('visits', by))).toBe('ERR_SESSION_ARGUMENT')
    }
    expect(await codeOf(session.increment('attempts', 1, { ttl: 0 }))).toBe('ERR_SESSION_ARGUMENT')
  })

  it('refuses options other than ttl, as update refuses options its store does not understand', async () => {
    const store = countingStore(new MemoryStore())
    const session = new SessionLayer<Data>({ store }).open(undefined)
    for (const options of [{ strategy: 'hot-only' }, { hotTtl: 5 }, { bogus: 1 }]) {
      expect(await codeOf(session.increment('visits', 1, options as { ttl?: number }))).toBe('ERR_SESSION_OPTION')
    }
    expect(store.calls.increment ?? 0).toBe(0)
    expect(await session.increment('visits', 1, { ttl: 60, strategy: undefined } as { ttl?: number })).toBe(1)
  })

  it('takes a value once; without a session it is undefined and creates nothing', async () => {
    const layer = new SessionLayer<Data>({ store: new MemoryStore() })
    const anonymous = layer.open(undefined)
    expect(await anonymous.take('flash')).toBeUndefined()
    expect(await anonymous.commit()).toBeUndefined()
    const session = layer.open(undefined)
    await session.update('user', { id: 'u1' })
    await session.update('flash', 'Welcome')
    const taken = await session.take('flash')
    expectTypeOf(taken).toEqualTypeOf<string | undefined>()
    expect(taken).toBe('Welcome')
    expect(await session.take('flash')).toBeUndefined()
    expect(await session.get('flash')).toBeUndefined()
    expect(await session.get('user')).toEqual({ id: 'u1' })
  })

  it('answers ERR_SESSION_UNSUPPORTED from increment and take only, on a store without them', async () => {
    const layer = new SessionLayer({ store: basicStore(new MemoryStore()) })
    const session = layer.open(undefined)
    expect(await codeOf(session.increment('n'))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(session.take('n'))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await session.update('n', 1)).toBe(true)
    expect(await session.get('n')).toBe(1)
    expect(await session.remove('n')).toBe(true)
  })

  it('answers ERR_SESSION_UNSUPPORTED from increment with a codec that has no integer format', async () => {
    const json = new TextEncoder()
    const codec: Codec = {
      name: 'custom',
      encode: (value) => json.encode(JSON.stringify(value)),
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
    }
    const session = new SessionLayer({ store: new MemoryStore(), codec }).open(undefined)
    expect(await codeOf(session.increment('n'))).toBe('ERR_SESSION_UNSUPPORTED')
    await session.update('flash', 'works')
    expect(await session.take('flash')).toBe('works')
  })
})
