import Fastify from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { session as expressSession } from '../src/adapters/express.js'
import { fastifySession } from '../src/adapters/fastify.js'
import { session as h3Session } from '../src/adapters/h3.js'
import { session as honoSession } from '../src/adapters/hono.js'
import { session as koaSession } from '../src/adapters/koa.js'
import { session as sveltekitSession } from '../src/adapters/sveltekit.js'
import { withSession } from '../src/adapters/web.js'
import { SessionConfigError } from '../src/core/errors.js'
import { SessionLayer, type SessionLayerOptions } from '../src/core/layer.js'
import { LayeredStore } from '../src/stores/layered/index.js'
import { MemoryStore } from '../src/stores/memory.js'
import { PostgresStore } from '../src/stores/postgres/index.js'
import { RedisStore } from '../src/stores/redis/index.js'

// Options a user writes in plain JavaScript (or through `any`) are checked as strictly as the types
// check them: an unknown key or a wrongly typed value is a SessionConfigError naming the option,
// never silently ignored or read as truthy/falsy. Clients and pools are real but never connect: the
// options are rejected before any command.

/** The SessionConfigError `make` throws (synchronously or as a rejection). */
async function configError(make: () => unknown): Promise<SessionConfigError> {
  try {
    await make()
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).code).toBe('ERR_SESSION_CONFIG')
    return error as SessionConfigError
  }
  throw new Error('no error')
}

const store = new MemoryStore()
const layerWith = (options: Record<string, unknown>) =>
  new SessionLayer({ store, ...options } as unknown as SessionLayerOptions)
const cookie = (options: Record<string, unknown>) => layerWith({ cookie: options })

afterAll(() => store.close())

describe('SessionLayer options', () => {
  it.each([
    ['name', 'cookie.name'],
    ['maxAge', 'cookie.maxAge'],
    ['secure', 'cookie.secure'],
    ['rolling', 'idleTimeout'],
    ['resave', 'not needed'],
    ['saveUninitialized', 'not needed'],
    ['genid', 'random'],
  ])("rejects express-session's %s, pointing to what replaces it", async (key, hint) => {
    const error = await configError(() => layerWith({ [key]: 'x' }))
    expect(error.option).toBe(key)
    expect(error.message).toContain(hint)
  })

  it('rejects an unknown key without a hint, and a layer without a store', async () => {
    expect((await configError(() => layerWith({ sotre: store }))).option).toBe('sotre')
    expect((await configError(() => new SessionLayer(undefined as unknown as SessionLayerOptions))).option).toBe(
      'store',
    )
    expect((await configError(() => layerWith({ store: {} }))).option).toBe('store')
  })

  it.each([
    ['idleTimeout', '3600'],
    ['idleTimeout', 0.5],
    ['absoluteTimeout', -1],
    ['touchAfter', Number.NaN],
    ['onWarning', 'console'],
    ['cookie', 'session'],
    ['secret', 42],
    // express-session's README secret: too short to sign with (legacySessions still verifies it).
    ['secret', 'keyboard cat'],
    ['secret', 'ab'.repeat(20)],
    ['secret', []],
    ['legacy', {}],
    ['codec', 1],
    // Only two codecs have names; a custom one needs both halves and a name.
    ['codec', 'cbor'],
    ['codec', 'JSON'],
    ['codec', { name: 'half', encode: (value: unknown) => new TextEncoder().encode(String(value)) }],
    ['codec', { encode: () => new Uint8Array(), decode: () => undefined }],
  ])('rejects %s: %s', async (key, value) => {
    expect((await configError(() => layerWith({ [key]: value }))).option).toBe(key)
  })
})

describe('cookie options', () => {
  it('rejects a maxAge above 400 days as milliseconds written for seconds', async () => {
    // express-session's one day; (its one hour, 3_600_000, is 41.7 days here: a valid lifetime)
    const error = await configError(() => cookie({ maxAge: 86_400_000 }))
    expect(error.option).toBe('cookie.maxAge')
    expect(error.message).toContain('seconds, not milliseconds')
    expect((await configError(() => cookie({ maxAge: 400 * 86_400 + 1 }))).option).toBe('cookie.maxAge')
    expect(cookie({ maxAge: 400 * 86_400 }).cookie.maxAge).toBe(400 * 86_400)
  })

  it.each([
    ['secure', 'auto'],
    ['secure', 'false'],
    ['httpOnly', 0],
    ['httpOnly', 'true'],
    ['partitioned', 1],
    ['sameSite', 'Lax'],
    ['sameSite', true],
    ['maxAge', '3600'],
    ['path', 1],
    ['domain', null],
  ])('rejects %s: %s instead of reading it as truthy or falsy', async (key, value) => {
    expect((await configError(() => cookie({ [key]: value }))).option).toBe(`cookie.${key}`)
  })

  it("rejects express-session's expires and a miscased maxage, pointing to maxAge", async () => {
    const expires = await configError(() => cookie({ expires: new Date() }))
    expect(expires.option).toBe('cookie.expires')
    expect(expires.message).toContain('cookie.maxAge')
    const typo = await configError(() => cookie({ maxage: 3600 }))
    expect(typo.option).toBe('cookie.maxage')
    expect(typo.message).toContain('cookie.maxAge')
  })

  it('still accepts every documented option', () => {
    const layer = cookie({
      name: '__Host-s',
      httpOnly: false,
      secure: true,
      sameSite: 'strict',
      path: '/',
      maxAge: 60,
      partitioned: true,
    })
    expect(layer.cookie.attributes).toBe('; Path=/; Secure; SameSite=Strict; Partitioned')
  })
})

describe('store and adapter options', () => {
  it('MemoryStore: unknown keys, counts and milliseconds', async () => {
    const make = (options: object) => () => new MemoryStore(options as never).close()
    expect((await configError(make({ max: 10 }))).option).toBe('max')
    expect((await configError(make({ maxSessions: 1.5 }))).option).toBe('maxSessions')
    expect((await configError(make({ maxSessions: '10' }))).option).toBe('maxSessions')
    expect((await configError(make({ sweepInterval: 0 }))).option).toBe('sweepInterval')
    expect((await configError(make({ sweepInterval: 2 ** 31 }))).option).toBe('sweepInterval')
  })

  it('RedisStore: unknown keys, the client, prefix and timeout', async () => {
    const client = new Redis({ lazyConnect: true })
    try {
      const make = (options: object) => () => new RedisStore({ client, ...options } as never)
      expect((await configError(make({ keyPrefix: 'x:' }))).option).toBe('keyPrefix')
      expect((await configError(make({ timeout: '2000' }))).option).toBe('timeout')
      expect((await configError(make({ prefix: 'a{b}' }))).option).toBe('prefix')
      // Keys travel as UTF-8: two prefixes with different lone surrogates would be the same keys.
      expect((await configError(make({ prefix: 'app-\ud800:' }))).option).toBe('prefix')
      expect((await configError(make({ client: undefined }))).option).toBe('client')
      expect((await configError(make({ client: {} }))).option).toBe('client')
    } finally {
      client.disconnect()
    }
  })

  it('PostgresStore: unknown keys and wrongly typed values, before any query', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 100 })
    try {
      const make = (options: object) => () => PostgresStore.create({ pool, ...options } as never)
      expect((await configError(make({ tableName: 'x' }))).option).toBe('tableName')
      expect((await configError(make({ migrate: 'false' }))).option).toBe('migrate')
      expect((await configError(make({ cleanupInterval: -1 }))).option).toBe('cleanupInterval')
      expect((await configError(make({ cleanupBatchSize: 0.5 }))).option).toBe('cleanupBatchSize')
      expect((await configError(make({ timeout: 0 }))).option).toBe('timeout')
      expect((await configError(make({ table: '' }))).option).toBe('table')
      expect((await configError(make({ pool: {} }))).option).toBe('pool')
      // A single pg Client has query but no connect: the store needs a Pool.
      expect((await configError(make({ pool: { query: () => undefined } }))).option).toBe('pool')
      expect(pool.totalCount).toBe(0)
    } finally {
      await pool.end()
    }
  })

  it('LayeredStore: unknown keys, tiers, timings and per-field policies', async () => {
    const hot = new MemoryStore()
    const cold = new MemoryStore()
    try {
      const make = (options: object) => () => new LayeredStore({ hot, cold, ...options } as never).close()
      expect((await configError(make({ strategy: 'hot-only' }))).option).toBe('strategy')
      expect((await configError(make({ cold: hot }))).option).toBe('cold')
      expect((await configError(make({ hot: undefined }))).option).toBe('hot')
      expect((await configError(make({ hotTtl: 0 }))).option).toBe('hotTtl')
      expect((await configError(make({ missTtl: -1 }))).option).toBe('missTtl')
      expect((await configError(make({ hotTimeout: '250' }))).option).toBe('hotTimeout')
      expect((await configError(make({ maxTombstones: 0 }))).option).toBe('maxTombstones')
      expect((await configError(make({ fields: { a: { strategy: 'hot' } } }))).option).toBe('fields.a.strategy')
      expect((await configError(make({ fields: { a: { hotTTL: 5 } } }))).option).toBe('fields.a.hotTTL')
    } finally {
      hot.close()
      cold.close()
    }
  })

  it('withSession and fastifySession: unknown keys and wrong types', async () => {
    const layer = new SessionLayer({ store })
    const handler = () => new Response('ok')
    expect((await configError(() => withSession(layer, handler, { onError: handler } as never))).option).toBe('onError')
    expect((await configError(() => withSession(layer, handler, { onStoreError: 503 } as never))).option).toBe(
      'onStoreError',
    )
    const app = Fastify()
    app.register(fastifySession, { layer, cookieName: 'sid' } as never)
    expect((await configError(() => app.ready())).option).toBe('cookieName')
    await app.close().catch(() => {})
    const prefixed = Fastify()
    await prefixed.register(fastifySession, { layer, prefix: '/api' })
    await prefixed.ready()
    await prefixed.close()
  })

  it('says to await a store factory that was passed as a promise', async () => {
    const pending = Promise.resolve(store)
    expect((await configError(() => new SessionLayer({ store: pending as never }))).message).toContain('await')
    const layered = () => new LayeredStore({ hot: store, cold: pending as never })
    expect((await configError(layered)).message).toContain('await')
  })

  it('every adapter refuses what is not a SessionLayer when it is built, not at each request', async () => {
    const factories: Record<string, (layer: unknown) => unknown> = {
      'ruts/express': (layer) => expressSession(layer as never),
      'ruts/koa': (layer) => koaSession(layer as never),
      'ruts/hono': (layer) => honoSession(layer as never),
      'ruts/h3': (layer) => h3Session(layer as never),
      'ruts/sveltekit': (layer) => sveltekitSession(layer as never),
      'ruts/web': (layer) => withSession(layer as never, () => new Response('ok')),
    }
    for (const [name, make] of Object.entries(factories)) {
      // express-session's own call shape, a store, nothing.
      for (const wrong of [{ store, secret: 'keyboard cat' }, store, undefined]) {
        const error = await configError(() => make(wrong))
        expect(error.option, name).toBe('layer')
      }
      expect(make(new SessionLayer({ store }))).toBeTypeOf('function')
    }
    expect((await configError(() => expressSession({ store, secret: 'x' } as never))).message).toContain(
      'not its options',
    )
  })
})
