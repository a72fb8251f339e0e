import { expect, it } from 'vitest'
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
const write = writeOptionsFor

// Redis 7.0 has no HEXPIRE: per-field TTL is emulated inside the session hash and enforced by the
// store's scripts on the server clock. This is the path every Redis from 6.2 (and Valkey) runs.
describeRedis('RedisStore per-field TTL on Redis without HEXPIRE', () => {
  const connect = connections()

  it.concurrent.each(clientKinds)('a 1 s field in a 1 h session expires alone ($name)', async (kind) => {
    const connected = await connect(kind)
    const prefix = uniquePrefix()
    const store = storeFor(connected.client, { prefix })
    const key = randomKey()
    const hashKey = redisKey(prefix, key)
    await store.write(key, 'user', bytes('ada'), write('create', HOUR, HOUR))
    const flash = await store.write(key, 'flash', bytes('saved!'), write('existing', 1, 1))
    expect(flash).toMatchObject({ status: 'written', touched: false })
    const fresh = await store.get(key, 'flash')
    expect(fresh.live && text(fresh.value)).toBe('saved!')
    // Its own remaining lifetime, by the server's clock, on the plain read and the refreshing one.
    for (const read of [fresh, await store.get(key, 'flash', { touch: { ttl: HOUR, threshold: 60 } })]) {
      expect(read.live && read.fieldTtl).toBeGreaterThan(0)
      expect(read.live && read.fieldTtl).toBeLessThanOrEqual(1_000)
    }

    await sleep(1_100)

    const gone = await store.get(key, 'flash')
    expect(gone).toMatchObject({ live: true, value: undefined })
    expect(gone.live && gone.ttl).toBeGreaterThan((HOUR - 5) * 1000)
    const user = await store.get(key, 'user')
    expect(user.live && text(user.value)).toBe('ada')
    // The session keeps its lifetime on the server, not only in the store's answer.
    expect(Number(await connected.raw(hashKey, 'PTTL', hashKey))).toBeGreaterThan((HOUR - 5) * 1000)
    // An insert treats the expired field as absent.
    const again = await store.write(key, 'flash', bytes('new'), { ...write('existing', 1, 1), mode: 'insert' })
    expect(again).toMatchObject({ status: 'written' })
    expect(await store.remove(key, 'flash')).toMatchObject({ live: true, removed: true })

    // getAll returns only live fields and reclaims expired entries from the hash.
    await store.write(key, 'short', bytes('x'), write('existing', 1, 1))
    await sleep(1_100)
    const all = await store.getAll(key)
    expect(all.live && [...all.fields.keys()]).toEqual(['user'])
    expect(Number(await connected.raw(hashKey, 'HEXISTS', hashKey, 'f:short'))).toBe(0)
  })
})
