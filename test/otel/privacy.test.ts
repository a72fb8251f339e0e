import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type IORedis from 'ioredis'
import type PG from 'pg'
import type * as NodeRedis from 'redis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { type RedisClient, RedisStore } from '../../src/stores/redis/index.js'
import { telemetry } from './telemetry.js'

// SPEC §14: with the stock ioredis, node-redis and pg instrumentations at their DEFAULT settings, no
// exported span holds a session value, a raw session id or the secret — whatever each store sends.
// The instrumentations patch the client libraries when they are loaded, so those are required
// only after registering them (a static import would load them first, unpatched).
const otel = telemetry()
registerInstrumentations({
  tracerProvider: otel.provider,
  instrumentations: [new IORedisInstrumentation(), new RedisInstrumentation(), new PgInstrumentation()],
})
const tracer = otel.provider.getTracer('test')
const require = createRequire(import.meta.url)
const { Redis, Cluster } = require('ioredis') as typeof IORedis
const { createClient, createCluster } = require('redis') as typeof NodeRedis
const pg = require('pg') as typeof PG

const redis = inject('redis')
const postgres = inject('postgres')
const missing = [
  redis.available ? undefined : `Redis: ${redis.reason}`,
  postgres.available ? undefined : `Postgres: ${postgres.reason}`,
].filter((reason) => reason !== undefined)

const MARKER = `marker-${randomBytes(6).toString('hex')}`
const SECRET = `privacy-test-secret-${randomBytes(16).toString('hex')}`
const closers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

async function ioredisClient(): Promise<RedisClient> {
  if (!redis.available) throw new Error(redis.reason)
  const client = new Redis({ ...redis.standalone, maxRetriesPerRequest: 1 })
  closers.push(async () => client.disconnect())
  return client
}

/**
 * An ioredis client whose user may not use FUNCTION or FCALL (as on Redis 6.2, which has neither):
 * the store falls back to EVALSHA with its values staged.
 */
async function ioredisWithoutFunctions(): Promise<RedisClient> {
  if (!redis.available) throw new Error(redis.reason)
  const admin = new Redis({ ...redis.standalone, maxRetriesPerRequest: 1 })
  const [user, password] = ['privacy-scripts', randomBytes(12).toString('hex')]
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all', '-function', '-fcall', '-fcall_ro')
  admin.disconnect()
  const client = new Redis({ ...redis.standalone, username: user, password, maxRetriesPerRequest: 1 })
  closers.push(async () => client.disconnect())
  return client
}

async function ioredisCluster(): Promise<RedisClient> {
  if (!redis.available) throw new Error(redis.reason)
  const client = new Cluster(redis.cluster)
  closers.push(async () => client.disconnect())
  return client
}

async function nodeRedisClient(): Promise<RedisClient> {
  if (!redis.available) throw new Error(redis.reason)
  const client = createClient({ socket: redis.standalone })
  await client.connect()
  closers.push(async () => client.destroy())
  return client
}

async function nodeRedisCluster(): Promise<RedisClient> {
  if (!redis.available) throw new Error(redis.reason)
  const client = createCluster({ rootNodes: redis.cluster.map((socket) => ({ socket })) })
  await client.connect()
  closers.push(async () => client.destroy())
  return client
}

async function postgresStore(): Promise<PostgresStore> {
  if (!postgres.available) throw new Error(postgres.reason)
  const { host, port, user, database } = postgres
  const pool = new pg.Pool({ host, port, user, database, max: 4 })
  closers.push(() => pool.end())
  const store = await PostgresStore.create({
    pool,
    table: `privacy_${randomBytes(4).toString('hex')}`,
    cleanupInterval: 0,
  })
  closers.push(() => store.close())
  return store
}

const redisStore = async (client: Promise<RedisClient>) =>
  new RedisStore({ client: await client, prefix: `privacy:${randomBytes(4).toString('hex')}:` })

const stores: [string, () => Promise<SessionStore>, string[]][] = [
  ['RedisStore on ioredis', () => redisStore(ioredisClient()), ['redis']],
  ['RedisStore on an ioredis Cluster', () => redisStore(ioredisCluster()), ['redis']],
  ['RedisStore on ioredis without functions (EVALSHA)', () => redisStore(ioredisWithoutFunctions()), ['redis']],
  ['RedisStore on node-redis', () => redisStore(nodeRedisClient()), ['redis']],
  ['RedisStore on a node-redis Cluster', () => redisStore(nodeRedisCluster()), ['redis']],
  ['PostgresStore', postgresStore, ['postgresql']],
  [
    'LayeredStore (RedisStore over PostgresStore)',
    async () => new LayeredStore({ hot: await redisStore(ioredisClient()), cold: await postgresStore() }),
    ['redis', 'postgresql'],
  ],
]

/** Everything a trace backend receives of a span. */
function exported(span: ReadableSpan): string {
  const { name, attributes, events, status, links, resource } = span
  return JSON.stringify({ name, attributes, events, status, links, resource: resource.attributes })
}

describe.skipIf(missing.length > 0)(
  `privacy of exported spans${missing.length ? ` (skipped: ${missing})` : ''}`,
  () => {
    for (const [name, create, systems] of stores) {
      it(`${name}: no span holds a value, a raw id or the secret`, async () => {
        const store = await create()
        const layer = new SessionLayer<Record<string, unknown>>({ store, secret: SECRET, cookie: { maxAge: 600 } })
        const ids = new Set<string>()
        const cookies = new Set<string>()
        let cookie: string | undefined
        // Each request inside an active span, as under an HTTP server instrumentation (the ioredis
        // instrumentation records nothing without a parent span, by default).
        const request = (act: (session: ReturnType<typeof layer.open>) => Promise<unknown>) =>
          tracer.startActiveSpan('request', async (span) => {
            try {
              await handle(act)
            } finally {
              span.end()
            }
          })
        const handle = async (act: (session: ReturnType<typeof layer.open>) => Promise<unknown>) => {
          const session = layer.open(cookie === undefined ? undefined : `session=${cookie}`)
          await act(session)
          const committed = await session.commit()
          const setCookie = typeof committed === 'string' ? committed : committed?.[0]
          if (setCookie !== undefined)
            cookie = setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')) || undefined
          if (session.id !== undefined) ids.add(session.id)
          if (cookie !== undefined) cookies.add(cookie)
        }
        otel.reset()
        await request((session) => session.update('token', { access: MARKER }))
        await request(async (session) => {
          await session.insert('profile', `${MARKER}-profile`)
          await session.get('token')
          await session.getAll()
        })
        await request((session) => session.regenerate())
        await request(async (session) => {
          session.prepareRegenerate()
          await session.update('token', { access: `${MARKER}-rotated` })
        })
        await request(async (session) => {
          await session.expire(300)
          await session.remove('profile')
          await session.get('token')
        })
        await request((session) => session.delete())
        await store.close?.()

        const spans = otel.spans()
        // The instrumentations did record this store's client calls: the check below is not vacuous.
        const seen = new Set(spans.map((span) => span.attributes['db.system'] ?? span.attributes['db.system.name']))
        for (const system of systems) expect(seen).toContain(system)
        expect(ids.size).toBeGreaterThanOrEqual(3)
        const leaks = spans.filter((span) => {
          const text = exported(span)
          return [MARKER, SECRET, ...ids, ...cookies].some((secret) => text.includes(secret))
        })
        const statement = (span: ReadableSpan) => span.attributes['db.statement'] ?? span.attributes['db.query.text']
        // The calls carrying values were recorded: FCALL (values as arguments, Redis 7+), or EVALSHA
        // with the values staged in RPUSH where functions are refused.
        if (systems.includes('redis')) {
          const calls = spans.map((span) => String(statement(span)).split(' ')[0]?.toUpperCase())
          expect(calls).toContain(name.includes('without functions') ? 'EVALSHA' : 'FCALL')
        }
        expect(leaks.map((span) => `${span.name}: ${String(statement(span))}`)).toEqual([])
      })
    }
  },
)
