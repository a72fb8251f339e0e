import { inspect } from 'node:util'
import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import type { SessionError } from '../../src/core/errors.js'
import { SessionLayer, type SessionLayerOptions } from '../../src/core/layer.js'
import type { StandardSchemaV1 } from '../../src/core/schema.js'
import type { SessionMap } from '../../src/core/session-map.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  )

/** Open, act, commit: one request; returns the cookie for the next one. */
async function request<Data extends object>(
  layer: SessionLayer<Data>,
  cookie: string | undefined,
  act: (session: ReturnType<SessionLayer<Data>['open']>) => Promise<unknown>,
) {
  const session = layer.open(cookie)
  const result = await act(session)
  const setCookie = await session.commit()
  return { result, cookie: (typeof setCookie === 'string' ? setCookie : setCookie?.[0])?.split(';')[0] ?? cookie }
}

// The same two fields in each library: a user object and an integer count.
const libraries = {
  'Zod 4': { user: z.object({ id: z.string() }), count: z.number().int() },
  Valibot: { user: v.object({ id: v.string() }), count: v.pipe(v.number(), v.integer()) },
  ArkType: { user: type({ id: 'string' }), count: type('number.integer') },
}

describe('SessionLayer fields (Standard Schema)', () => {
  for (const [library, fields] of Object.entries(libraries)) {
    it(`validates writes before the store and reads after decoding (${library})`, async () => {
      const store = countingStore(new MemoryStore())
      const layer = new SessionLayer({ store, fields })
      const { cookie } = await request(layer, undefined, async (session) => {
        expect(await session.update('user', { id: 'u1' })).toBe(true)
        expect(await session.increment('count', 2)).toBe(2)
      })
      store.reset()
      await request(layer, cookie, async (session) => {
        // @ts-expect-error id must be a string
        const rejected = session.update('user', { id: 1 })
        await expect(rejected).rejects.toMatchObject({ code: 'ERR_SESSION_VALUE' })
        const error = (await rejected.catch((caught: unknown) => caught)) as { issues?: unknown[] }
        expect(error.issues?.length).toBeGreaterThan(0)
        expect(store.calls.write).toBe(0)
        expect(await session.get('user')).toEqual({ id: 'u1' })
        expect(await session.get('count')).toBe(2)
      })
    })
  }

  it('infers Data from the output types, and refuses unknown fields and wrong types', async () => {
    const layer = new SessionLayer({ store: new MemoryStore(), fields: libraries['Zod 4'] })
    const session = layer.open(undefined)
    expectTypeOf(session.get('user')).resolves.toEqualTypeOf<{ id: string } | undefined>()
    expectTypeOf(session.get('count')).resolves.toEqualTypeOf<number | undefined>()
    // Refused through the promise, as every session method fails (never a throw at the call).
    for (const call of ['get', 'take', 'remove'] as const) {
      // @ts-expect-error not one of the fields
      const pending = session[call]('nope')
      expect(await codeOf(pending)).toBe('ERR_SESSION_ARGUMENT')
    }
    // A client-chosen name is quoted escaped and cut in the message: nothing it holds reaches a log raw.
    const reordered = '\u202eabc\u2028def'
    // @ts-expect-error not one of the fields
    const bidi = (await session.get(reordered).catch((caught: unknown) => caught)) as Error
    expect(bidi.message).toBe(`"\\u202eabc\\u2028def" is not one of the layer's fields`)
    const hostile = `x\r\n\u001b[31mFAKE LOG LINE ${'a'.repeat(200)}`
    // @ts-expect-error not one of the fields
    const refused = (await session.get(hostile).catch((caught: unknown) => caught)) as Error
    expect(refused.message).toBe(
      `"x\\r\\n\\u001b[31mFAKE LOG LINE ${'a'.repeat(42)}"… is not one of the layer's fields`,
    )
    // @ts-expect-error not one of the fields
    expect(await codeOf(session.update('nope', 1))).toBe('ERR_SESSION_ARGUMENT')
    // @ts-expect-error count holds a number
    expect(await codeOf(session.update('count', 'three'))).toBe('ERR_SESSION_VALUE')
    // @ts-expect-error user holds no number: not a counter
    expect(await codeOf(session.increment('user'))).toBe('ERR_SESSION_VALUE')
    // Without fields, any name and any value, as before.
    const free = new SessionLayer({ store: new MemoryStore() }).open(undefined)
    expectTypeOf(free.get('anything')).resolves.toEqualTypeOf<unknown>()
    expect(await free.update('anything', { deep: [1] })).toBe(true)
  })

  it('survives a deploy that changed the shape: old values absent and reported, others intact, transforms migrate', async () => {
    const store = new MemoryStore()
    const before = new SessionLayer({
      store,
      fields: { user: z.object({ name: z.string() }), theme: z.string(), visits: z.number() },
    })
    const { cookie } = await request(before, undefined, async (session) => {
      await session.update('user', { name: 'Ada Lovelace' })
      await session.update('theme', 'dark')
      await session.update('visits', 3)
    })

    // Schema B: user is now { first, last }; theme is an enum that no longer has 'dark'.
    const reported: [string, number][] = []
    const after = new SessionLayer({
      store,
      fields: {
        user: z.object({ first: z.string(), last: z.string() }),
        theme: z.enum(['light', 'system']),
        visits: z.number(),
      },
      onInvalid: (field, issues) => reported.push([field, issues.length]),
    })
    await request(after, cookie, async (session) => {
      expect(await session.get('user')).toBeUndefined()
      expect(await session.get('theme')).toBeUndefined()
      expect(await session.get('visits')).toBe(3)
      const all = await session.getAll()
      expect(all?.toObject()).toEqual({ visits: 3 })
      expect(all?.has('user')).toBe(false)
    })
    expect(reported.map(([field]) => field)).toEqual(['user', 'theme', 'user', 'theme'])
    expect(reported.every(([, count]) => count > 0)).toBe(true)

    // Schema C migrates the old shape with a transform; new writes are stored in the new shape.
    const migrating = new SessionLayer({
      store,
      fields: {
        user: z.union([
          z.object({ first: z.string(), last: z.string() }),
          z.object({ name: z.string() }).transform(({ name }) => {
            const [first = '', ...rest] = name.split(' ')
            return { first, last: rest.join(' ') }
          }),
        ]),
      },
    })
    await request(migrating, cookie, async (session) => {
      expect(await session.get('user')).toEqual({ first: 'Ada', last: 'Lovelace' })
      expect((await session.getAll())?.get('user')).toEqual({ first: 'Ada', last: 'Lovelace' })
      expectTypeOf(session.get('user')).resolves.toEqualTypeOf<{ first: string; last: string } | undefined>()
    })
  })

  it('reads a stored value whose schema throws or rejects as rejected: absent and reported, or ERR_SESSION_VALUE; the error never quotes the value', async () => {
    const store = new MemoryStore()
    const plain = new SessionLayer({ store })
    const { cookie } = await request(plain, undefined, async (session) => {
      await session.update('prefs', 'card=4111111111111111')
      await session.update('later', 'card=4111111111111111')
      await session.update('broken', 'card=4111111111111111')
    })
    // A migrating transform that parses an old shape: JSON.parse throws on this value, quoting it.
    const prefs = z.union([
      z.object({ theme: z.string() }),
      z.string().transform((text) => z.object({ theme: z.string() }).parse(JSON.parse(text))),
    ])
    // Not even a result object: a broken validator, read as a rejection too.
    const broken: StandardSchemaV1<unknown, string> = {
      '~standard': { version: 1, vendor: 'test', validate: () => undefined as never },
    }
    const later: StandardSchemaV1<unknown, string> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => Promise.reject(new SyntaxError(`bad ${String(value)}`)),
      },
    }
    const reported: [string, string[]][] = []
    const lenient = new SessionLayer({
      store,
      fields: { prefs, later },
      onInvalid: (field, issues) => reported.push([field, issues.map((issue) => issue.message)]),
    })
    await request(lenient, cookie, async (session) => {
      expect(await session.get('prefs')).toBeUndefined()
      expect(await session.get('later')).toBeUndefined()
      const all = await session.getAll()
      expect(all?.has('prefs')).toBe(false)
      expect(all?.has('later')).toBe(false)
    })
    expect(reported.slice(0, 2)).toEqual([
      ['prefs', ['the schema threw (SyntaxError)']],
      ['later', ['the schema threw (SyntaxError)']],
    ])
    const strict = new SessionLayer({ store, fields: { prefs, later, broken }, onInvalid: 'throw' })
    await request(strict, cookie, async (session) => {
      expect(await codeOf(session.update('broken', 'x'))).toBe('ERR_SESSION_VALUE')
      for (const read of [session.get('prefs'), session.get('later'), session.get('broken'), session.take('prefs')]) {
        const error = await read.then(
          () => undefined,
          (caught: unknown) => caught as SessionError,
        )
        expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
        expect(inspect(error, { depth: 5 })).not.toContain('4111')
      }
    })
  })

  it('warns once per field by default, and throws with onInvalid: throw', async () => {
    const store = new MemoryStore()
    const { cookie } = await request(new SessionLayer({ store }), undefined, (session) =>
      session.update('count', 'not a number'),
    )
    const warnings: string[] = []
    const warning = new SessionLayer({
      store,
      fields: { count: z.number() },
      onWarning: (message) => warnings.push(message),
    })
    for (let index = 0; index < 3; index++) {
      await request(warning, cookie, async (session) => expect(await session.get('count')).toBeUndefined())
    }
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('"count"')
    expect(warnings[0]).not.toContain('not a number')

    const strict = new SessionLayer({ store, fields: { count: z.number() }, onInvalid: 'throw' })
    await request(strict, cookie, async (session) => {
      const failure = await session.get('count').catch((error: { code?: string; issues?: unknown[] }) => error)
      expect(failure).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect((failure as { issues?: unknown[] }).issues?.length).toBeGreaterThan(0)
    })
  })

  // Valibot quotes the value in its messages and keeps it as `input`; ArkType keeps it as `data`.
  const tokenSchemas = {
    'Zod 4': z.string().startsWith('tok_v2_'),
    Valibot: v.pipe(v.string(), v.startsWith('tok_v2_')),
    ArkType: type(/^tok_v2_/),
  }
  for (const [library, token] of Object.entries(tokenSchemas)) {
    it(`puts no stored value on a schema error, nor the written one where a logger looks (${library})`, async () => {
      const secret = 'tok_live_SECRET_4242'
      const store = new MemoryStore()
      const { cookie } = await request(new SessionLayer({ store }), undefined, (session) =>
        session.update('token', secret),
      )
      const strict = new SessionLayer({ store, fields: { token }, onInvalid: 'throw' })
      const read = await request(strict, cookie, (session) => session.get('token').catch((error: unknown) => error))
      const written = await request(strict, cookie, (session) =>
        session.update('token', secret).catch((error: unknown) => error),
      )
      for (const error of [read.result, written.result] as SessionError[]) {
        expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
        expect(error.issues?.length).toBeGreaterThan(0)
        // What loggers serialise: own enumerable properties, inspect, JSON.
        expect(`${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${error.message}`).not.toContain('SECRET')
        for (const issue of error.issues ?? []) expect(Object.keys(issue).sort()).toEqual(['message', 'path'])
      }
      // A stored value is server data: not even the issues the caller asks for quote it.
      expect(JSON.stringify((read.result as SessionError).issues)).not.toContain('SECRET')
    })
  }

  const recordSchemas = {
    'Zod 4': z.record(z.string(), z.number()),
    Valibot: v.record(v.string(), v.number()),
    ArkType: type('Record<string, number>'),
  }
  for (const [library, prefs] of Object.entries(recordSchemas)) {
    it(`puts no key of a stored record in a read error's issue paths (${library})`, async () => {
      const store = new MemoryStore()
      const { cookie } = await request(new SessionLayer({ store }), undefined, (session) =>
        session.update('prefs', { SECRET_KEY_4242: 'not a number' }),
      )
      const strict = new SessionLayer({ store, fields: { prefs }, onInvalid: 'throw' })
      const read = await request(strict, cookie, (session) => session.get('prefs').catch((error: unknown) => error))
      const error = read.result as SessionError
      expect(error).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect(error.issues?.length).toBeGreaterThan(0)
      expect(`${inspect(error, { depth: 10 })} ${JSON.stringify(error.issues)}`).not.toContain('SECRET')
    })
  }

  it('runs async validators on writes and reads, getAll included', async () => {
    const taken = new Set(['root'])
    const name = z.string().refine(async (value) => !taken.has(value), 'taken')
    const store = new MemoryStore()
    const warnings: string[] = []
    const layer = new SessionLayer({
      store,
      fields: { name, n: z.number() },
      onWarning: (message) => warnings.push(message),
    })
    const { cookie } = await request(layer, undefined, async (session) => {
      expect(await codeOf(session.update('name', 'root'))).toBe('ERR_SESSION_VALUE')
      expect(await session.update('name', 'ada')).toBe(true)
      expect(await session.get('name')).toBe('ada')
      await session.update('n', 1)
    })
    // The async field is validated before getAll resolves; the whole map reads synchronously.
    for (const reader of [layer, new SessionLayer({ store, fields: { name, n: z.number() } }), layer]) {
      const all = (await request(reader, cookie, (session) => session.getAll())).result as SessionMap | undefined
      expect(all?.get('name')).toBe('ada')
      expect(all?.toObject()).toEqual({ name: 'ada', n: 1 })
      expect(all?.size).toBe(2)
    }
    // A stored value the async schema rejects: absent from the map, under 'throw' its error on access.
    await request(new SessionLayer({ store }), cookie, (session) => session.update('name', 'root'))
    const lenient = (await request(layer, cookie, (session) => session.getAll())).result as SessionMap | undefined
    expect(lenient?.toObject()).toEqual({ n: 1 })
    expect(warnings).toEqual([expect.stringContaining('session field "name" holds a value its schema rejects')])
    const strict = new SessionLayer({ store, fields: { name, n: z.number() }, onInvalid: 'throw' })
    const thrown = (await request(strict, cookie, (session) => session.getAll())).result as SessionMap | undefined
    expect(thrown?.get('n')).toBe(1)
    expect(() => thrown?.get('name')).toThrow(expect.objectContaining({ code: 'ERR_SESSION_VALUE' }))
  })

  it('getAll: a schema async for some values only is validated up front once seen, and reports only the fields read', async () => {
    // Zod answers synchronously unless the value reaches the async refinement (here: a nick).
    const profile = z.object({
      nick: z
        .string()
        .refine(async (nick) => nick !== 'root')
        .optional(),
    })
    const store = new MemoryStore()
    const reported: string[] = []
    const layer = new SessionLayer({
      store,
      fields: { profile, n: z.number(), legacy: z.string() },
      onInvalid: (field) => reported.push(field),
    })
    const plain = (
      await request(layer, undefined, async (session) => {
        await session.update('profile', {})
        await session.update('n', 1)
        return session.getAll()
      })
    ).result as SessionMap | undefined
    expect(plain?.toObject()).toEqual({ profile: {}, n: 1 })
    const { cookie } = await request(layer, undefined, async (session) => {
      await session.update('profile', { nick: 'ada' })
      await session.update('n', 1)
    })
    await request(new SessionLayer({ store }), cookie, (session) => session.update('legacy', 42))
    // profile answered synchronously so far, so getAll left it lazy: this value takes the async path,
    // which the synchronous map cannot wait for, once.
    const first = (await request(layer, cookie, (session) => session.getAll())).result as SessionMap | undefined
    expect(first?.get('n')).toBe(1)
    expect(() => first?.get('profile')).toThrow(expect.objectContaining({ code: 'ERR_SESSION_UNSUPPORTED' }))
    // From then on getAll validates profile before it resolves.
    const nicked = (await request(layer, cookie, (session) => session.getAll())).result as SessionMap | undefined
    expect(nicked?.get('n')).toBe(1)
    expect(reported).toEqual([])
    expect(nicked?.toObject()).toEqual({ profile: { nick: 'ada' }, n: 1 })
    expect(reported).toEqual(['legacy'])
  })

  it('keeps writes in call order when an async schema is slow', async () => {
    const slow: StandardSchemaV1<string> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          return typeof value === 'string' ? { value } : { issues: [{ message: 'a string' }] }
        },
      },
    }
    const layer = new SessionLayer({ store: new MemoryStore(), fields: { a: slow, b: z.string() } })
    const session = layer.open(undefined)
    const order: string[] = []
    await Promise.all([
      session.update('a', 'first').then(() => order.push('a')),
      session.update('b', 'second').then(() => order.push('b')),
    ])
    expect(order).toEqual(['a', 'b'])
  })

  it('validates take like a read, and checks an increment result against the schema', async () => {
    const layer = new SessionLayer({
      store: new MemoryStore(),
      fields: { flash: z.string(), attempts: z.number().int().max(2) },
      onInvalid: 'throw',
    })
    await request(layer, undefined, async (session) => {
      await session.update('flash', 'hi')
      expect(await session.take('flash')).toBe('hi')
      expect(await session.increment('attempts')).toBe(1)
      expect(await session.increment('attempts')).toBe(2)
      // The store counted (it cannot consult the schema inside its atomic step): the sum is taken
      // back, the caller hears, and the stored count stays one the schema accepts.
      expect(await codeOf(session.increment('attempts'))).toBe('ERR_SESSION_VALUE')
      expect(await session.get('attempts')).toBe(2)
    })
    // Also as the next request reads the store.
    const store = new MemoryStore()
    const strict = new SessionLayer({ store, fields: { attempts: z.number().int().max(2) }, onInvalid: 'throw' })
    const { cookie } = await request(strict, undefined, (session) => session.increment('attempts', 2))
    const over = await request(strict, cookie, (session) => codeOf(session.increment('attempts')))
    expect(over.result).toBe('ERR_SESSION_VALUE')
    expect((await request(strict, cookie, (session) => session.get('attempts'))).result).toBe(2)
  })

  it('takes a rejected sum back only on the session it reached: one that ended in between stays ended', async () => {
    const inner = new MemoryStore()
    let endAfterIncrement = false
    // The session ends (a logout elsewhere) right after the increment reached it.
    const store = Object.assign(Object.create(inner) as MemoryStore, {
      increment: async (...args: Parameters<MemoryStore['increment']>) => {
        const result = await inner.increment(...args)
        if (endAfterIncrement) await inner.delete(args[0])
        return result
      },
    })
    const strict = new SessionLayer({ store, fields: { attempts: z.number().int().max(2) }, onInvalid: 'throw' })
    const { cookie } = await request(strict, undefined, (session) => session.increment('attempts', 2))
    endAfterIncrement = true
    const session = strict.open(cookie)
    expect(await codeOf(session.increment('attempts'))).toBe('ERR_SESSION_VALUE')
    // No new session: the id stays the one presented, no cookie names another, the store holds nothing.
    expect(`session=${session.id}`).toBe(cookie)
    const sent = await session.commit()
    if (sent !== undefined) expect(String(sent)).toContain(cookie)
    expect(inner.size).toBe(0)
  })

  it('rejects a field that is not a Standard Schema, and onInvalid without fields', () => {
    const bad = { store: new MemoryStore(), fields: { user: { parse: () => 1 } } } as unknown as SessionLayerOptions
    expect(() => new SessionLayer(bad)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
    expect(() => new SessionLayer({ store: new MemoryStore(), onInvalid: 'throw' })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    )
  })
})
