import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore, WriteOptions } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { postgres, skipReason as postgresSkip, testPool, uniqueTable } from '../postgres/helpers.js'
import { type DatabaseProxy, startProxy } from '../postgres/proxy.js'
import {
  type ConnectedClient,
  clientKinds,
  skipReason as redisSkip,
  sleep,
  storeFor,
  uniquePrefix,
} from '../redis/clients.js'

// SPEC §10 on real Redis and Postgres, with two (three) LayeredStore instances standing for processes
// that share both servers. Process B reaches Postgres through a TCP proxy that delays every reply, so
// its cold reads are slow for real: the server ran the statement, the answer arrives late.
const REPLY_DELAY = 300
const DAY = 86_400
const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl: DAY, sessionTtl: DAY }
const text = (read: { live: boolean; value?: Uint8Array | undefined }) =>
  read.live && read.value !== undefined ? new TextDecoder().decode(read.value) : undefined

describe.skipIf(postgresSkip ?? redisSkip)('LayeredStore across processes (Redis over Postgres)', () => {
  let connected: ConnectedClient
  let proxy: DatabaseProxy
  let plainHot: RedisStore
  let a: LayeredStore
  let b: LayeredStore
  let fresh: () => LayeredStore
  const stores: SessionStore[] = []

  beforeAll(async () => {
    const kind = clientKinds.find((each) => each.name === 'ioredis standalone') as (typeof clientKinds)[number]
    connected = await kind.connect()
    const prefix = uniquePrefix()
    const hot = () => storeFor(connected.client, { prefix })
    plainHot = hot()
    if (!postgres.available) return
    proxy = await startProxy(postgres.host, postgres.port)
    const table = uniqueTable()
    const coldA = await PostgresStore.create({ pool: testPool({ max: 4 }), table, cleanupInterval: 0 })
    const slowPool = testPool({ max: 4, host: '127.0.0.1', port: proxy.port })
    const coldB = await PostgresStore.create({ pool: slowPool, table, cleanupInterval: 0, migrate: false })
    const tolerant = { hotTimeout: 2_000, onError: () => {} }
    a = new LayeredStore({ hot: hot(), cold: coldA, ...tolerant })
    b = new LayeredStore({ hot: hot(), cold: coldB, ...tolerant })
    fresh = () => {
      const store = new LayeredStore({ hot: hot(), cold: coldA, ...tolerant })
      stores.push(store)
      return store
    }
    stores.push(a, b)
  })
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close?.()))
    await proxy?.down()
    await connected?.close()
  })

  // The review's case: hot lost the session (restart, eviction); B starts a read whose cold reply is
  // slow; A deletes. B's background warm used to re-create the hot copy with its whole lifetime, and
  // then A, B and a fresh process all served the logged-out session. The delete lands at several
  // points of B's read and of B's warm (lease, second cold read, move into place).
  it.each([0, 100, 250, 400, 550, 700])('a delete %i ms into a slow read elsewhere is never undone', async (offset) => {
    const key = sessionKeyOf(createSessionId())
    await a.write(key, 'user', new TextEncoder().encode('ada'), create)
    expect(await plainHot.delete(key)).toBe(true)
    proxy.setReplyDelay(REPLY_DELAY)
    const reading = b.get(key, 'user')
    await sleep(offset)
    expect(await a.delete(key)).toBe(true)
    await reading // served or not: it began before the delete resolved
    await b.close() // waits for B's background warm
    proxy.setReplyDelay(0)
    expect(await plainHot.getAll(key)).toEqual({ live: false })
    for (const store of [a, b, fresh()]) {
      expect(await store.get(key, 'user')).toEqual({ live: false })
      expect(await store.getAll(key)).toEqual({ live: false })
    }
  })

  it('still warms a session hot lost when nothing ends it (through the lease)', async () => {
    const key = sessionKeyOf(createSessionId())
    await a.write(key, 'user', new TextEncoder().encode('ada'), create)
    await plainHot.delete(key)
    expect(text(await b.get(key, 'user'))).toBe('ada')
    await b.close()
    expect(text(await plainHot.get(key, 'user'))).toBe('ada')
    const warmed = await plainHot.get(key, 'user')
    // Never longer than cold's remaining lifetime.
    expect(warmed.live && warmed.ttl).toBeLessThan(DAY * 1000)
    expect(
      (await a.getAll(key)).live && [...((await a.getAll(key)) as { fields: Map<string, unknown> }).fields.keys()],
    ).toEqual(['user'])
  })

  // Hot-only data obeys absoluteTimeout like every field (the review: 4.5 s after absoluteTimeout 3
  // the hot-only field was still served, and hot-only writes kept extending the session).
  it('ends hot-only fields at the absolute deadline, however often they are written', async () => {
    const layer = new SessionLayer({ store: fresh(), absoluteTimeout: 2, cookie: { maxAge: 3600, secure: false } })
    const session = layer.open(undefined)
    await session.update('user', 'ada')
    await session.update('cart', [1], { strategy: 'hot-only' })
    const cookie = `session=${session.id}`
    for (let i = 0; i < 4; i++) {
      await sleep(400)
      await layer.open(cookie).update('cart', [1, i], { strategy: 'hot-only' })
    }
    await sleep(2_400 - 1_600 + 200)
    const later = layer.open(cookie)
    expect(await later.get('cart')).toBeUndefined()
    expect(await later.get('user')).toBeUndefined()
    expect(await plainHot.getAll(sessionKeyOf(session.id ?? ''))).toEqual({ live: false })
  })
})
