import { afterAll, describe, expect, it } from 'vitest'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { expressHarness } from '../helpers/express-harness.js'
import { skipReason as postgresSkip, TEST_TIMEOUT, testPool, testStore } from '../postgres/helpers.js'
import { type ConnectedClient, clientKinds, skipReason as redisSkip, storeFor } from '../redis/clients.js'
import { expectSeedExample } from './helpers.js'

// The store contract and the HTTP behaviour suite on the real combinations: Redis (standalone and
// Cluster) over Postgres, and Memory over Postgres. Pools end in postgres/helpers.ts after the file.
const connected: ConnectedClient[] = []
const memories: MemoryStore[] = []
afterAll(async () => {
  await Promise.all(connected.map((each) => each.close()))
  await Promise.all(memories.map((memory) => memory.close()))
})

// One small pool for every store in this file (each on its own tables): the database is shared
// with the other test files running in parallel, and its connection limit with them.
let sharedPool: ReturnType<typeof testPool> | undefined
// The subject cases start 500 binds at once: the store deadline covers the wait for one of these few
// connections, so it is the generous one of the behaviour suites.
function coldStore(): ReturnType<typeof testStore> {
  sharedPool ??= testPool({ max: 8, connectionTimeoutMillis: 10_000 })
  return testStore({ pool: sharedPool, timeout: TEST_TIMEOUT })
}

// Hot failures are absorbed by design, so they are collected and must not have happened. The hot
// timeout is generous: a loaded test machine must not turn a slow first script load into a failure.
const hotFailures: string[] = []
const tolerant = {
  hotTimeout: 2_000,
  onError: (error: Error, context: { operation: string }) =>
    void hotFailures.push(`${context.operation}: ${error.message}`),
}
afterAll(() => expect(hotFailures).toEqual([]))

async function memoryOverPostgres(): Promise<SessionStore> {
  const hot = new MemoryStore()
  memories.push(hot)
  return new LayeredStore({ hot, cold: await coldStore(), ...tolerant })
}

function redisOverPostgres(kindName: string): () => Promise<SessionStore> {
  return async () => {
    const kind = clientKinds.find((each) => each.name === kindName)
    if (kind === undefined) throw new Error(`no Redis client kind ${kindName}`)
    const client = await kind.connect()
    connected.push(client)
    const tiers = { hot: storeFor(client.client), cold: await coldStore() }
    const store = new LayeredStore({ ...tiers, ...tolerant })
    tiersOf.set(store, tiers)
    return store
  }
}

/** Another LayeredStore over the tiers of `store` (kept for that purpose by {@link redisOverPostgres}). */
const tiersOf = new WeakMap<SessionStore, { hot: SessionStore; cold: SessionStore }>()
function twinOf(store: SessionStore): SessionStore {
  const tiers = tiersOf.get(store)
  if (tiers === undefined) throw new Error('no tiers recorded for this store')
  return new LayeredStore({ ...tiers, ...tolerant })
}

const both = postgresSkip ?? redisSkip

describe('LayeredStore on real services', () => {
  describeStoreConformance({
    name: 'LayeredStore (MemoryStore over PostgresStore)',
    skip: postgresSkip,
    // The same layered code runs the subject cases over Postgres with Redis below; a third run would
    // only add 2,000-bind bursts to this file's shared pool of 8 connections.
    skipCapabilities: { subjects: 'run by the RedisStore-over-PostgresStore suites of this file' },
    create: memoryOverPostgres,
  })
  for (const kind of ['ioredis standalone', 'node-redis Cluster']) {
    // The twin is a second instance over the same Redis prefix and Postgres tables (another process).
    const first = redisOverPostgres(kind)
    let tiers: Promise<SessionStore> | undefined
    describeStoreConformance({
      name: `LayeredStore (RedisStore ${kind} over PostgresStore)`,
      skip: both,
      create: () => {
        tiers = first()
        return tiers
      },
      twin: async () => twinOf(await (tiers as Promise<SessionStore>)),
    })
  }
  describeAdapterBehaviour({
    name: 'Express 5 on LayeredStore (MemoryStore over PostgresStore)',
    start: expressHarness(5),
    skip: postgresSkip,
    store: memoryOverPostgres,
  })
  describeAdapterBehaviour({
    name: 'Express 5 on LayeredStore (RedisStore over PostgresStore)',
    start: expressHarness(5),
    skip: both,
    store: redisOverPostgres('ioredis standalone'),
  })
})

describe.skipIf(both)('LayeredStore (Redis over Postgres): the seed example', () => {
  it('a field valid 30 days in Postgres and 1 s in Redis is re-read from Postgres and re-warmed', async () => {
    const kind = clientKinds.find((each) => each.name === 'ioredis standalone')
    const client = await kind?.connect()
    if (client === undefined) throw new Error('no ioredis client')
    connected.push(client)
    const hot = storeFor(client.client)
    const cold = countingStore(await coldStore())
    const store = new LayeredStore({ hot, cold, ...tolerant })
    await expectSeedExample(store, hot, cold, 60)
    await store.close()
  })
})
