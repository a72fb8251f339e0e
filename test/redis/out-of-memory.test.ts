import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../../src/stores/redis/index.js'
import { evictingPolicy } from '../../src/stores/redis/runner.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, text } from './clients.js'
import { cli, type RedisProcess, startRedis } from './server.js'

// A Redis at maxmemory with noeviction refuses writes. Reads go on, also those with a sliding refresh
// (idleTimeout), which then leave the lifetime as it is: a refresh that does not happen only ends a
// session earlier, a failed read would answer every signed-in user 503.

describeRedis('RedisStore on a Redis out of memory (noeviction)', () => {
  let server: RedisProcess
  let client: Redis
  beforeAll(async () => {
    server = await startRedis()
    client = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 })
    await client.connect()
  })
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
  })

  it('serves reads, refreshing reads included (without the refresh)', async () => {
    const store = new RedisStore({ client, prefix: 'oom:' })
    const key = randomKey()
    await store.write(key, 'user', bytes('ada'), writeOptionsFor('create', 600))
    const used = Number(/used_memory:(\d+)/.exec(await cli(server.port, 'INFO', 'memory'))?.[1])
    await cli(server.port, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    // Far below what the server holds: it refuses anything that may grow memory.
    await cli(server.port, 'CONFIG', 'SET', 'maxmemory', String(Math.floor(used / 2)))
    await expect(client.set('filler', 'x'.repeat(10_000))).rejects.toThrow('OOM')
    const touch = { touch: { ttl: 3_600, threshold: 1 } }
    const read = await store.get(key, 'user', touch)
    expect(read.live && text(read.value)).toBe('ada')
    expect(read.live && read.touched).toBe(false)
    const all = await store.getAll(key, touch)
    expect(all.live && [...all.fields.keys()]).toEqual(['user'])
    await cli(server.port, 'CONFIG', 'SET', 'maxmemory', '0')
    // With memory back, the same read refreshes the lifetime.
    expect(await store.get(key, 'user', touch)).toMatchObject({ live: true, touched: true })
  })
})

// Under an evicting policy Redis may drop a subject's index while its sessions live (docs/redis.md#memory).
describeRedis('RedisStore on a Redis that evicts keys', () => {
  let server: RedisProcess
  let client: Redis
  beforeAll(async () => {
    server = await startRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] })
    client = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 })
    await client.connect()
  })
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
  })

  it('warns once, with its first calls, naming the policy and noeviction', async () => {
    const warnings: string[] = []
    const store = new RedisStore({ client, prefix: 'evict:', onWarning: (message) => void warnings.push(message) })
    const key = randomKey()
    // Concurrent first calls each probe the server.
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        store.write(key, `f${index}`, bytes('ada'), writeOptionsFor('create', 600)),
      ),
    )
    await store.get(key, 'f0')
    expect(warnings).toEqual([expect.stringContaining('maxmemory-policy allkeys-lru')])
    expect(warnings[0]).toContain('noeviction')
  })

  it('keeps working when the warning callback throws', async () => {
    const store = new RedisStore({
      client,
      prefix: 'evict:',
      onWarning: () => {
        throw new Error('a logger that fails')
      },
    })
    const key = randomKey()
    await store.write(key, 'user', bytes('ada'), writeOptionsFor('create', 600))
    const read = await store.get(key, 'user')
    expect(read.live && text(read.value)).toBe('ada')
  })

  it('says nothing once the policy is noeviction', async () => {
    await cli(server.port, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    const warnings: string[] = []
    const store = new RedisStore({ client, prefix: 'evict:', onWarning: (message) => void warnings.push(message) })
    await store.get(randomKey(), 'user')
    expect(warnings).toEqual([])
  })
})

describe('evictingPolicy', () => {
  const info = (limit: number, policy: string) =>
    `# Memory\r\nused_memory:1\r\nmaxmemory:${limit}\r\nmaxmemory_policy:${policy}\r\n`
  it('names a policy that evicts under a maxmemory, and nothing else', () => {
    expect(evictingPolicy(info(1024, 'volatile-lru'))).toBe('volatile-lru')
    expect(evictingPolicy(Buffer.from(info(1024, 'allkeys-random')))).toBe('allkeys-random')
    expect(evictingPolicy(info(1024, 'noeviction'))).toBeUndefined()
    expect(evictingPolicy(info(0, 'allkeys-lru'))).toBeUndefined()
    expect(evictingPolicy(new Error('NOPERM'))).toBeUndefined()
  })
})
