import { inspect } from 'node:util'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { MAX_COOKIE_AGE } from '../../src/core/cookie.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer, type SessionLayerOptions } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import type { SessionStore } from '../../src/core/store.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { maxAgeOf } from '../../src/testing/http-client.js'
import { sleep } from '../../src/testing/values.js'

const cookieValue = (setCookie: string | readonly string[] | undefined) =>
  typeof setCookie === 'string' ? setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')) : undefined
const codeOf = async (promise: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    return (error as { code?: string }).code
  }
  return 'resolved'
}

function setup(options: Partial<SessionLayerOptions> = {}) {
  const store = countingStore(new MemoryStore())
  const layer = new SessionLayer({ store, cookie: { maxAge: 3600 }, ...options })
  /** Run one "request": open, act, commit; returns the Set-Cookie and the session's final id. */
  const request = async (
    cookie: string | undefined,
    act: (session: ReturnType<typeof layer.open>) => Promise<unknown>,
  ) => {
    const session = layer.open(cookie === undefined ? undefined : `session=${cookie}`)
    const result = await act(session)
    const setCookie = await session.commit()
    // Without a legacy source a commit gives at most the one session cookie line.
    if (typeof setCookie === 'object') throw new Error('a commit without a legacy source gave several lines')
    return { result, setCookie, id: session.id, session }
  }
  return { store, layer, request }
}

describe('Session', () => {
  it('costs nothing to open, and reading its id parses but never calls the store', async () => {
    const { store, request } = setup()
    const id = createSessionId()
    const { result, setCookie } = await request(id, async (session) => session.id)
    expect(result).toBe(id)
    expect(setCookie).toBeUndefined()
    expect(store.total()).toBe(0)
  })

  it('forgets an unknown id after the store says so, and writes nothing for a read', async () => {
    const { store, request } = setup()
    const { result, id, setCookie } = await request(createSessionId(), (session) => session.get('a'))
    expect(result).toBeUndefined()
    expect(id).toBeUndefined()
    expect(setCookie).toBeUndefined()
    expect(store.calls.write).toBe(0)
  })

  it('files sessions under a hash of the id, never the raw id', async () => {
    const keys: string[] = []
    const inner = new MemoryStore()
    const spy: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      write: (key: string, ...rest: Parameters<SessionStore['write']> extends [string, ...infer R] ? R : never) => {
        keys.push(key)
        return inner.write(key, ...rest)
      },
    })
    const layer = new SessionLayer({ store: spy })
    const session = layer.open(undefined)
    await session.update('a', 1)
    expect(keys).toEqual([sessionKeyOf(session.id ?? '')])
    expect(keys[0]).not.toContain(session.id)
  })

  it('refuses a write that would need a new cookie after the headers went out', async () => {
    const { request, layer } = setup()
    const { setCookie } = await request(undefined, (session) => session.update('a', 1))
    const id = cookieValue(setCookie)
    const late = layer.open(undefined)
    await late.commit()
    expect(await codeOf(late.update('a', 1))).toBe('ERR_SESSION_HEADERS_SENT')
    expect(await codeOf(() => late.prepareRegenerate())).toBe('ERR_SESSION_HEADERS_SENT')
    const existing = layer.open(`session=${id}`)
    await existing.commit()
    // Writing into a session the cookie already names needs no new cookie: allowed.
    expect(await existing.update('b', 2)).toBe(true)
    expect(await codeOf(existing.regenerate())).toBe('ERR_SESSION_HEADERS_SENT')
    expect(await codeOf(existing.delete())).toBe('ERR_SESSION_HEADERS_SENT')
  })

  it('starts a fresh session when a write follows delete() in the same request', async () => {
    const { request } = setup()
    const first = await request(undefined, (session) => session.update('a', 1))
    const old = cookieValue(first.setCookie)
    const { setCookie, id } = await request(old, async (session) => {
      await session.delete()
      expect(session.id).toBeUndefined()
      await session.update('b', 2)
    })
    expect(id).toBeDefined()
    expect(id).not.toBe(old)
    expect(cookieValue(setCookie)).toBe(id)
    expect((await request(id, (session) => session.get('a'))).result).toBeUndefined()
  })

  it('regenerate() without a session returns undefined and does not throw', async () => {
    const { request, store } = setup()
    expect((await request(undefined, (session) => session.regenerate())).result).toBeUndefined()
    expect((await request(createSessionId(), (session) => session.regenerate())).result).toBeUndefined()
    expect(store.calls.rename).toBe(1)
  })

  it('retries creation under another id when the first one collides', async () => {
    const inner = new MemoryStore()
    let collisions = 1
    const store: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      write: (...args: Parameters<SessionStore['write']>) =>
        collisions-- > 0 ? Promise.resolve({ status: 'collision' as const }) : inner.write(...args),
    })
    const session = new SessionLayer({ store }).open(undefined)
    expect(await session.update('a', 1)).toBe(true)
    expect(await session.get('a')).toBe(1)
  })

  it('derives Max-Age from the server-side lifetime, at most 400 days', async () => {
    const { request } = setup()
    const long = await request(undefined, (session) => session.update('a', 1, { ttl: MAX_COOKIE_AGE }))
    expect(maxAgeOf(long.setCookie)).toBeLessThanOrEqual(MAX_COOKIE_AGE)
    expect(maxAgeOf(long.setCookie)).toBeGreaterThanOrEqual(MAX_COOKIE_AGE - 1)
    const short = await request(undefined, (session) => session.update('a', 1, { ttl: 5 }))
    // The session lives maxAge (3600 s); the cookie never outlives it.
    expect(maxAgeOf(short.setCookie)).toBeLessThanOrEqual(3600)
    expect(maxAgeOf(short.setCookie)).toBeGreaterThanOrEqual(3599)
  })

  it('rejects bad arguments with typed errors before any store call', async () => {
    const { request, store } = setup()
    await request(undefined, async (session) => {
      expect(await codeOf(session.update('', 1))).toBe('ERR_SESSION_ARGUMENT')
      // SPEC §10: TTLs above 400 days, the review's MAX_SAFE_INTEGER among them.
      expect(await codeOf(session.update('a', 1, { ttl: MAX_COOKIE_AGE + 1 }))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.update('a', 1, { ttl: Number.MAX_SAFE_INTEGER }))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.expire(MAX_COOKIE_AGE + 1))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(() => session.get('a\0b'))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(() => session.get('a\ud800'))).toBe('ERR_SESSION_ARGUMENT')
      // The limit is 1024 bytes of UTF-8: 342 CJK characters are 1026 bytes (1024 of them, 3072
      // bytes, passed a limit in characters and then failed on Postgres' index only).
      expect(await codeOf(() => session.get('\u5b57'.repeat(342)))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(() => session.get('a'.repeat(1025)))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(() => session.get('\u{1F600}'.repeat(256) + 'a'))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.update('a', 1, { ttl: 0 }))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.update('a', 1, { ttl: 1.5 }))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.expire(-1))).toBe('ERR_SESSION_ARGUMENT')
      expect(await codeOf(session.update('a', () => 1))).toBe('ERR_SESSION_VALUE')
      expect(await codeOf(session.update('a', 1, { strategy: 'hot-only' }))).toBe('ERR_SESSION_OPTION')
    })
    expect(store.total()).toBe(0)
  })

  it('a stored value that does not decode fails with ERR_SESSION_VALUE, quoting nothing of it', async () => {
    const store = new MemoryStore()
    const secret = 'tok_SECRET123'
    const writer = new SessionLayer({ store, codec: 'msgpack' })
    const written = writer.open(undefined)
    await written.update('token', secret)
    await written.update('list', [secret])
    const cookie = await written.commit()
    const id = cookieValue(cookie)
    // The same store read with another codec (an app that switched codecs without migrating), and
    // msgpack bytes with a byte too many: both parsers put the value in their own messages.
    const readers = [
      new SessionLayer({ store, codec: 'json' }),
      new SessionLayer({
        store,
        codec: {
          name: 'strict',
          encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
          decode: () => {
            throw new Error(`cannot parse ${secret}`)
          },
        },
      }),
    ]
    for (const reader of readers) {
      const session = reader.open(`session=${id}`)
      const failures = [
        await session.get('token').catch((error: unknown) => error),
        await session
          .getAll()
          .then((all) => all?.get('list'))
          .catch((error: unknown) => error),
      ]
      for (const error of failures) {
        expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE', name: 'SessionError' })
        expect((error as Error).message).toMatch(/^session field "(token|list)": its stored value does not decode as/)
        expect((error as Error).cause).toBeUndefined()
        expect(inspect(error, { depth: 10, showHidden: true })).not.toContain('SECRET')
      }
    }
    const key = sessionKeyOf(id ?? '')
    // msgpack's fixstr of 13 bytes, then one byte more: msgpackr's message quotes the string read.
    const trailing = new Uint8Array([0xa0 + secret.length, ...new TextEncoder().encode(secret), 0xc0])
    await store.write(key, 'bad', trailing, { mode: 'update', session: 'existing', fieldTtl: 60, sessionTtl: 60 })
    const error = await writer
      .open(`session=${id}`)
      .get('bad')
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain('SECRET')
  })

  it('stores __proto__ and constructor as ordinary fields', async () => {
    const { request } = setup()
    const { setCookie } = await request(undefined, async (session) => {
      await session.update('__proto__', { admin: true })
      await session.update('constructor', 'c')
    })
    const { result } = await request(cookieValue(setCookie), async (session) => (await session.getAll())?.toObject())
    const all = result as Record<string, unknown>
    expect(Object.keys(all).sort()).toEqual(['__proto__', 'constructor'])
    expect(Object.getPrototypeOf(all)).toBeNull()
    expect(Object.getOwnPropertyDescriptor(all, '__proto__')?.value).toEqual({ admin: true })
    expect(all.constructor).toBe('c')
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('reads a field from the store once per request', async () => {
    const { request, store } = setup()
    const { setCookie } = await request(undefined, (session) => session.update('a', { n: 1 }))
    store.reset()
    await request(cookieValue(setCookie), async (session) => {
      expect(await session.get('a')).toEqual({ n: 1 })
      expect(await session.get('a')).toEqual({ n: 1 })
      await session.update('a', { n: 2 })
      expect(await session.get('a')).toEqual({ n: 2 })
    })
    expect(store.calls.get).toBe(1)
  })

  it('refuses a value above maxValueBytes at the call, before any store call', async () => {
    const store = countingStore(new MemoryStore())
    const big = 'x'.repeat(1_048_576)
    const session = new SessionLayer({ store }).open(undefined)
    const refused = await session.update('big', big).catch((error: unknown) => error)
    expect(refused).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(String((refused as Error).message)).toContain('maxValueBytes (1048576)')
    expect(String((refused as Error).message)).not.toContain('xxx')
    expect(store.total()).toBe(0)
    const roomy = new SessionLayer({ store, maxValueBytes: 2_000_000 }).open(undefined)
    expect(await roomy.update('big', big)).toBe(true)
    expect(await roomy.get('big')).toBe(big)
    for (const maxValueBytes of [0, -1, 1.5]) {
      expect(() => new SessionLayer({ store, maxValueBytes })).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
      )
    }
  })

  it('refuses a new field beyond maxFields with ERR_SESSION_VALUE naming the limit, never the field or value', async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer({ store, maxFields: 3 })
    expect(layer.maxFields).toBe(3)
    expect(new SessionLayer({ store }).maxFields).toBe(1000)
    const session = layer.open(undefined)
    await session.update('a', 1)
    await session.insert('b', 2)
    expect(await session.increment('n')).toBe(1)
    const secretName = 'client-chosen-name'
    const writes: (() => Promise<unknown>)[] = [
      () => session.update(secretName, 'secret-value'),
      () => session.insert(secretName, 'secret-value'),
      () => session.increment(secretName),
    ]
    for (const write of writes) {
      const refused = await write().catch((error: unknown) => error)
      expect(refused).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect(String((refused as Error).message)).toContain('maxFields (3)')
      expect(String((refused as Error).message)).not.toContain('secret-value')
      expect(String((refused as Error).message)).not.toContain(secretName)
    }
    expect(await session.get(secretName)).toBeUndefined()
    // Existing fields stay writable; a removal makes room; a flash message is one more field.
    expect(await session.update('a', 10)).toBe(true)
    expect(await session.increment('n')).toBe(2)
    expect(await session.insert('b', 3)).toBe(false)
    expect(await session.remove('a')).toBe(true)
    await session.update('flash', 'saved')
    expect(await codeOf(session.update('other', 1))).toBe('ERR_SESSION_VALUE')
    expect(await session.take('flash')).toBe('saved')
    expect(await session.update('other', 1)).toBe(true)
    expect(Object.fromEntries((await session.getAll())?.entries() ?? [])).toEqual({ b: 2, n: 2, other: 1 })
  })

  it('rejects a maxFields that is not a whole number ≥ 1, as every option', () => {
    const store = new MemoryStore()
    expect(new SessionLayer({ store, maxFields: 1 }).maxFields).toBe(1)
    for (const maxFields of [0, -1, 1.5, 'x', Number.NaN]) {
      expect(() => new SessionLayer({ store, maxFields: maxFields as number })).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
      )
    }
  })

  it('passes maxFields only to a store that lists it in limits, and warns once when it was set for one that does not', async () => {
    const writes: unknown[] = []
    const memory = new MemoryStore()
    const unaware: SessionStore = {
      name: 'custom',
      get: (key, field, options) => memory.get(key, field, options),
      getAll: (key, options) => memory.getAll(key, options),
      write: (key, field, value, options) => {
        writes.push(options)
        return memory.write(key, field, value, options)
      },
      remove: (key, field) => memory.remove(key, field),
      delete: (key) => memory.delete(key),
      expire: (key, seconds) => memory.expire(key, seconds),
      rename: (from, to) => memory.rename(from, to),
    }
    const warnings: string[] = []
    const session = new SessionLayer({ store: unaware, maxFields: 1, onWarning: (m) => warnings.push(m) }).open(
      undefined,
    )
    expect(warnings).toEqual([expect.stringContaining('maxFields')])
    await session.update('a', 1)
    expect(await session.update('b', 2)).toBe(true)
    expect(writes).not.toContainEqual(expect.objectContaining({ maxFields: expect.anything() }))
    new SessionLayer({ store: unaware, onWarning: (m) => warnings.push(m) })
    expect(warnings).toHaveLength(1)
  })

  it('a call the handler did not await fails into storeError, not into an unhandled rejection', async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer({ store })
    const first = layer.open(undefined)
    await first.update('a', 1)
    const cookie = String(await first.commit()).split(';')[0]
    store.failing = true
    const unhandled: unknown[] = []
    const listener = (reason: unknown) => void unhandled.push(reason)
    process.on('unhandledRejection', listener)
    try {
      const session = layer.open(cookie)
      void session.update('a', 2)
      void session.insert('b', 1)
      void session.increment('c')
      void session.setSubject('user:1')
      void session.getSubject()
      void session.listSiblings()
      void session.revokeOthers()
      await session.commit()
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(session.storeError?.code).toBe('ERR_SESSION_STORE')
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', listener)
    }
  })
})

describe('lifetimes', () => {
  it('slides an idle timeout on reads, throttled by touchAfter, and re-sends the cookie then', async () => {
    const { request } = setup({ idleTimeout: 3, touchAfter: 1 })
    const created = await request(undefined, (session) => session.update('a', 1))
    expect(maxAgeOf(created.setCookie)).toBeLessThanOrEqual(3)
    const id = cookieValue(created.setCookie)
    const soon = await request(id, (session) => session.get('a'))
    expect(soon.setCookie).toBeUndefined()
    await sleep(1_200)
    const later = await request(id, (session) => session.get('a'))
    expect(later.result).toBe(1)
    expect(maxAgeOf(later.setCookie)).toBeGreaterThanOrEqual(2)
    await sleep(2_000)
    // Still alive: the read above moved the deadline.
    expect((await request(id, (session) => session.get('a'))).result).toBe(1)
    await sleep(3_200)
    expect((await request(id, (session) => session.get('a'))).result).toBeUndefined()
  }, 15_000)

  it('caps the lifetime at absoluteTimeout however often it is extended', async () => {
    const { request } = setup({ absoluteTimeout: 2 })
    const created = await request(undefined, (session) => session.update('a', 1, { ttl: 3600 }))
    expect(maxAgeOf(created.setCookie)).toBeLessThanOrEqual(2)
    const id = cookieValue(created.setCookie)
    await request(id, (session) => session.expire(3600))
    await sleep(2_200)
    expect((await request(id, (session) => session.get('a'))).result).toBeUndefined()
  })
})

describe('signed cookies', () => {
  const current = 'current-secret-0123456789-abcdefgh'
  const previous = 'previous-secret-0123456789-abcdef'

  it('accepts only correctly signed ids and re-issues old-secret cookies with the current secret', async () => {
    const old = setup({ secret: previous })
    const created = await old.request(undefined, (session) => session.update('a', 1))
    const signedOld = cookieValue(created.setCookie) ?? ''
    expect(signedOld).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)

    const rotated = new SessionLayer({ store: old.store, secret: [current, previous] })
    const session = rotated.open(`session=${signedOld}`)
    expect(await session.get('a')).toBe(1)
    const reissued = cookieValue(await session.commit())
    expect(reissued?.slice(0, 22)).toBe(signedOld.slice(0, 22))
    expect(reissued).not.toBe(signedOld)

    const bare = rotated.open(`session=${signedOld.slice(0, 22)}`)
    expect(await bare.get('a')).toBeUndefined()
    const tampered = rotated.open(`session=${signedOld.slice(0, 22)}.${'A'.repeat(43)}`)
    expect(await tampered.get('a')).toBeUndefined()
  })
})

describe('transport warning', () => {
  it('warns once when a Secure cookie goes out over plain HTTP to a non-local host', async () => {
    const onWarning = vi.fn()
    const layer = new SessionLayer({ store: new MemoryStore(), onWarning })
    const send = async (hostname: string, protocol: 'http' | 'https') => {
      const session = layer.open(undefined, { protocol, hostname })
      await session.update('a', 1)
      return session.commit()
    }
    // Browsers keep Secure cookies from these over plain HTTP (any case, a trailing dot).
    for (const local of ['localhost', 'LOCALHOST', 'localhost.', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]']) {
      expect(await send(local, 'http')).toContain('Secure')
    }
    expect(await send('example.com', 'https')).toContain('Secure')
    expect(onWarning).not.toHaveBeenCalled()
    expect(await send('example.com', 'http')).toContain('Secure')
    await send('example.org', 'http')
    expect(onWarning).toHaveBeenCalledOnce()
    expect(onWarning.mock.calls[0]?.[0]).toContain('plain HTTP')
  })

  it("puts only host-name characters of the request's Host into that warning", async () => {
    const onWarning = vi.fn()
    const layer = new SessionLayer({ store: new MemoryStore(), onWarning })
    const session = layer.open(undefined, { protocol: 'http', hostname: 'evil.example\r\nforged log line' })
    await session.update('a', 1)
    await session.commit()
    expect(onWarning.mock.calls[0]?.[0]).toContain('to evil.example??forged?log?line;')
  })

  it('computes a lazy transport only when a Secure cookie goes out and no warning was given yet', async () => {
    const onWarning = vi.fn()
    const layer = new SessionLayer({ store: new MemoryStore(), onWarning })
    const transport = vi.fn(() => ({ protocol: 'http' as const, hostname: 'example.com' }))
    await layer.open(undefined, transport).get('a')
    await layer.open(undefined, transport).commit()
    expect(transport).not.toHaveBeenCalled()
    for (let i = 0; i < 2; i++) {
      const session = layer.open(undefined, transport)
      await session.update('a', 1)
      await session.commit()
    }
    expect(transport).toHaveBeenCalledOnce()
    expect(onWarning).toHaveBeenCalledOnce()
  })
})

describe('types', () => {
  it('types every field through SessionLayer<Data> with no declaration merging', () => {
    type Data = { count: number; user: { id: string } }
    const session = new SessionLayer<Data>({ store: new MemoryStore() }).open(undefined)
    expectTypeOf(session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(session.get('user')).toEqualTypeOf<Promise<{ id: string } | undefined>>()
    expectTypeOf(session.update<'count'>)
      .parameter(1)
      .toEqualTypeOf<number>()
    // @ts-expect-error unknown field names are type errors
    void session.get('nope').catch(() => undefined)
    // @ts-expect-error values are checked against the field's type
    void session.update('count', 'one').catch(() => undefined)
    // A helper generic over the session's shape type-checks (the value type is Data[K] as it is).
    const write = <D extends object, K extends keyof D & string>(s: Session<D>, k: K, v: D[K]) => s.update(k, v)
    void write(session, 'count', 1).catch(() => undefined)
    const untyped = new SessionLayer({ store: new MemoryStore() }).open(undefined)
    expectTypeOf(untyped.get('anything')).toEqualTypeOf<Promise<unknown>>()
  })

  it('flush() reports the cookie so far without sealing: later writes still rename and clear it', async () => {
    const { layer, store } = setup()
    const session = layer.open(undefined)
    expect(await session.flush()).toBeUndefined()
    await session.update('user', 'ada')
    const created = await session.flush()
    expect(created).toEqual({ value: session.id, maxAge: 3600 })
    const prepared = session.prepareRegenerate()
    expect((await session.flush())?.value).toBe(prepared)
    expect(await session.regenerate()).not.toBe(prepared)
    expect((await session.flush())?.value).toBe(session.id)
    await session.delete()
    expect(await session.flush()).toEqual({ value: '', maxAge: 0 })
    expect(store.calls.rename).toBe(2)
  })

  it('remembers the last store failure of the request for the adapter', async () => {
    const { layer, store } = setup()
    const session = layer.open(`session=${createSessionId()}`)
    expect(session.storeError).toBeUndefined()
    store.failing = true
    expect(await codeOf(session.get('user'))).toBe('ERR_SESSION_STORE')
    expect(session.storeError?.code).toBe('ERR_SESSION_STORE')
    expect(await codeOf(session.update('user', 'x', { ttl: 0 }))).toBe('ERR_SESSION_ARGUMENT')
    expect(session.storeError?.code).toBe('ERR_SESSION_STORE')
  })
})
