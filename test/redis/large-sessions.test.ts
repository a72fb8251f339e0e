import { expect, it } from 'vitest'
import type { SessionStore, WriteOptions } from '../../src/core/store.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import {
  bytes,
  clientKinds,
  connections,
  describeRedis,
  randomKey,
  redisKey,
  sleep,
  storeFor,
  text,
  uniquePrefix,
} from './clients.js'

const HOUR = 3600
const write = (session: WriteOptions['session'], fieldTtl: number) => writeOptionsFor(session, fieldTtl, HOUR)

// The scripts write a placed session with one HSET and reclaim expired fields with one HDEL, but
// Lua's unpack cannot spread more than about 8,000 values into one call: past that a script must
// split the call. These sessions are big enough to cross that limit.
const OVER_UNPACK_LIMIT = 8_100

// Filling these sessions queues thousands of writes on one connection while the other cases of this
// file (and other files) run beside it; the store's 2 s default deadline measures that queue, not the
// scripts this file is about, and fired on a loaded CI machine. The deadline has its own tests.
const LARGE_SESSION_TIMEOUT = 30_000
const TEST_TIMEOUT = 2 * LARGE_SESSION_TIMEOUT

async function writeFields(store: SessionStore, key: string, names: string[], fieldTtl: number): Promise<void> {
  for (let start = 0; start < names.length; start += 500) {
    const batch = names.slice(start, start + 500)
    await Promise.all(batch.map((name) => store.write(key, name, bytes(name), write('existing', fieldTtl))))
  }
}

describeRedis('RedisStore with sessions past the Lua unpack limit', () => {
  const connect = connections()

  it.concurrent.each(clientKinds)(
    'renames and moves a session of 4,050 fields ($name)',
    async (kind) => {
      const connected = await connect(kind)
      const store = storeFor(connected.client, { prefix: uniquePrefix(), timeout: LARGE_SESSION_TIMEOUT })
      const [a, b, c] = [randomKey(), randomKey(), randomKey()]
      const names = Array.from({ length: OVER_UNPACK_LIMIT / 2 }, (_, index) => `field${index}`)
      await store.write(a, 'first', bytes('1'), write('create', HOUR))
      await writeFields(store, a, names, HOUR)

      // On a Cluster both steps recreate the session from a TAKE: more than 8,100 HSET arguments.
      expect(await store.rename(a, b)).toMatchObject({ status: 'renamed' })
      expect(await store.write(c, 'last', bytes('2'), { ...write('existing', HOUR), renameFrom: b })).toMatchObject({
        status: 'written',
      })
      const all = await store.getAll(c)
      expect(all.live && all.fields.size).toBe(names.length + 2)
      expect(all.live && text(all.fields.get('field4049'))).toBe('field4049')
      expect(all.live && text(all.fields.get('last'))).toBe('2')
      expect(await store.get(b, 'first')).toEqual({ live: false })
    },
    TEST_TIMEOUT,
  )

  it.concurrent.each(clientKinds.filter((kind) => !kind.cluster))(
    'reclaims 8,100 expired fields in one getAll ($name)',
    async (kind) => {
      const connected = await connect(kind)
      const prefix = uniquePrefix()
      const store = storeFor(connected.client, { prefix, timeout: LARGE_SESSION_TIMEOUT })
      const key = randomKey()
      await store.write(key, 'keep', bytes('k'), write('create', HOUR))
      await writeFields(
        store,
        key,
        Array.from({ length: OVER_UNPACK_LIMIT }, (_, index) => `short${index}`),
        1,
      )
      await sleep(1_100)

      const all = await store.getAll(key)
      expect(all.live && [...all.fields.keys()]).toEqual(['keep'])
      const hashKey = redisKey(prefix, key)
      // m:expires, m:deadline, m:created, m:active, m:soonest and f:keep remain.
      expect(Number(await connected.raw(hashKey, 'HLEN', hashKey))).toBe(6)
    },
    TEST_TIMEOUT,
  )
})
