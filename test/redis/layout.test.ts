import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { SessionConfigError, SessionStoreError } from '../../src/core/errors.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { TOMBSTONE_MS } from '../../src/stores/redis/lua.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import {
  bytes,
  type ConnectedClient,
  clientKinds,
  describeRedis,
  randomKey,
  redis,
  storeFor,
  uniquePrefix,
} from './clients.js'

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)

describe('RedisStore options', () => {
  it('rejects a prefix with braces, a bad timeout and a client of neither library', () => {
    const client = new Redis({ lazyConnect: true })
    expect(() => new RedisStore({ client, prefix: 'app{1}:' })).toThrow(SessionConfigError)
    expect(() => new RedisStore({ client, timeout: 0 })).toThrow(SessionConfigError)
    expect(() => new RedisStore({ client, timeout: Number.NaN })).toThrow(SessionConfigError)
    expect(() => new RedisStore({ client: {} as never })).toThrow(SessionConfigError)
    expect(new RedisStore({ client }).name).toBe('redis')
  })

  it('wraps a client failure as SessionStoreError with the cause and no key in the message', async () => {
    const client = new Redis({ lazyConnect: true, enableOfflineQueue: false })
    const key = randomKey()
    const error = await new RedisStore({ client }).get(key, 'a').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SessionStoreError)
    expect(error).toMatchObject({ code: 'ERR_SESSION_STORE', status: 503 })
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect((error as Error).message).not.toContain(key)
  })
})

describeRedis('RedisStore key layout', () => {
  const open: (ConnectedClient | Redis)[] = []
  afterAll(async () => {
    for (const each of open) await ('disconnect' in each ? each.disconnect() : each.close())
  })

  it.each(clientKinds)('one hash per session under <prefix>{<key>}, every key with a TTL ($name)', async (kind) => {
    const connected = await kind.connect()
    open.push(connected)
    const prefix = uniquePrefix()
    const store = storeFor(connected.client, { prefix })
    const [a, b, c, d] = [randomKey(), randomKey(), randomKey(), randomKey()]
    await store.write(a, 'm:expires', bytes('not metadata'), create)
    await store.write(a, 'short', bytes('x'), { ...existing, fieldTtl: 1, sessionTtl: 1 })
    await store.write(b, 'x', bytes('1'), create)
    await store.rename(b, c)
    await store.write(d, 'y', bytes('2'), { ...existing, renameFrom: c })
    await store.remove(a, 'm:expires')
    await store.expire(d, 120)

    if (!redis.available) return
    const ports = kind.cluster ? redis.cluster.map((node) => node.port) : [redis.standalone.port]
    const keys: string[] = []
    const tombstones: string[] = []
    for (const port of ports) {
      const node = new Redis({ host: '127.0.0.1', port })
      open.push(node)
      for (const key of await node.keys(`${prefix}*`)) {
        expect(await node.type(key)).toBe('hash')
        const ttl = await node.pttl(key)
        expect(ttl).toBeGreaterThan(0)
        if (await node.hexists(key, 'm:taken')) {
          // A Cluster move leaves a one-entry tombstone at the old key for a minute (cluster-rename.ts).
          tombstones.push(key)
          expect(await node.hlen(key)).toBe(1)
          expect(ttl).toBeLessThanOrEqual(TOMBSTONE_MS)
          continue
        }
        keys.push(key)
        expect(Number(await node.hget(key, 'm:expires')) - Date.now()).toBeCloseTo(ttl, -3)
      }
    }
    expect(keys.sort()).toEqual([`${prefix}{${a}}`, `${prefix}{${d}}`].sort())
    const moved = [`${prefix}{${b}}`, `${prefix}{${c}}`]
    expect(tombstones.every((key) => moved.includes(key))).toBe(true)
    if (!kind.cluster) expect(tombstones).toEqual([])
  })
})
