import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { FieldRead } from '../../src/core/store.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { describeRedis, randomKey, redis, storeFor, text, uniquePrefix } from './clients.js'
import { type RedisProcess, startRedis } from './server.js'

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)

/** A read's value as text, `undefined` for no session or no value. */
const readText = (read: FieldRead): string | undefined => (read.live ? text(read.value) : undefined)

/** The server's count of socket reads: one per exchange it received, however many commands it held. */
async function readsOf(admin: Redis): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1])
}

// ioredis's `enableAutoPipelining` loses the command name of every `callBuffer` (5.x re-inserts it for
// `call` only): the store's first command used to throw inside a setImmediate and end the process.
// The store batches itself on such a client. The conformance suite runs on one as well.
describeRedis('RedisStore on ioredis with enableAutoPipelining', () => {
  let server: RedisProcess
  let admin: Redis
  beforeAll(async () => {
    server = await startRedis()
    admin = new Redis({ host: '127.0.0.1', port: server.port })
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  /** Run `work` on a fresh client and store; how many socket reads it cost the server. */
  async function measured(work: (store: ReturnType<typeof storeFor>) => Promise<void>): Promise<number> {
    const client = new Redis({ host: '127.0.0.1', port: server.port, enableAutoPipelining: true })
    const store = storeFor(client, { prefix: uniquePrefix() })
    try {
      // The first call loads the functions; measure after it.
      await store.write(randomKey(), 'warm', Buffer.from('up'), create)
      const before = await readsOf(admin)
      await work(store)
      // Both INFOs' own reads: one lands in `after`, none in `before`.
      return (await readsOf(admin)) - before - 1
    } finally {
      client.disconnect()
    }
  }

  const SESSIONS = 20
  const burst = async (store: ReturnType<typeof storeFor>) => {
    const keys = Array.from({ length: SESSIONS }, () => randomKey())
    const created = await Promise.all(keys.map((key, i) => store.write(key, 'n', Buffer.from(String(i)), create)))
    expect(created.map((result) => result.status)).toEqual(keys.map(() => 'written'))
    const updated = await Promise.all(keys.map((key, i) => store.write(key, 'n', Buffer.from(`${i}!`), existing)))
    expect(updated.map((result) => result.status)).toEqual(keys.map(() => 'written'))
    const read = await Promise.all(keys.map((key) => store.get(key, 'n')))
    expect(read.map(readText)).toEqual(keys.map((_, i) => `${i}!`))
  }

  it('sends what one event-loop turn asks for as one exchange, each caller getting its own reply', async () => {
    const batched = await measured(burst)
    // 20 creates, 20 updates and 20 reads (HMGET + TIME), each burst issued in one turn: three
    // exchanges. (Without the option the count varies with how fast the server drains the socket:
    // 37 of 60 here once.)
    expect(batched).toBe(3)
  })

  it('an error reply reaches only the call it belongs to', async () => {
    await measured(async (store) => {
      const taken = randomKey()
      await store.write(taken, 'n', Buffer.from('1'), create)
      const [collided, missed, read] = await Promise.all([
        store.write(taken, 'n', Buffer.from('2'), create),
        store.write(randomKey(), 'n', Buffer.from('3'), existing),
        store.get(taken, 'n'),
      ])
      expect([collided.status, missed.status, readText(read)]).toEqual(['collision', 'missing', '1'])
    })
  })

  it('a lost connection fails every call of the batch with a store error, and the next calls work', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: server.port,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
    })
    // The kill below resets the client's connection: ioredis reports it as an 'error' event.
    const connectionErrors: Error[] = []
    client.on('error', (error: Error) => connectionErrors.push(error))
    const store = storeFor(client, { prefix: uniquePrefix(), timeout: 2_000 })
    try {
      const key = randomKey()
      await store.write(key, 'n', Buffer.from('1'), create)
      const pending = Promise.allSettled([store.get(key, 'n'), store.get(key, 'n')])
      // Every connection but the admin's: the store's client is the only other one on this server.
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
      const settled = await pending
      for (const result of settled) {
        // Either the batch was out before the kill (a reply) or it failed as a store error.
        if (result.status === 'rejected')
          expect((result.reason as { code?: string }).code).toMatch(/^ERR_SESSION_STORE/)
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(readText(await store.get(key, 'n'))).toBe('1')
      for (const error of connectionErrors) expect(error.message).toMatch(/ECONNRESET|EPIPE|Connection is closed/)
    } finally {
      client.disconnect()
    }
  })

  it('works on a Cluster, one pipeline per exchange', async () => {
    if (!redis.available) throw new Error(redis.reason)
    const client = new Cluster(redis.cluster, { enableAutoPipelining: true, lazyConnect: true })
    await client.connect()
    const store = storeFor(client, { prefix: uniquePrefix() })
    try {
      const keys = Array.from({ length: 12 }, () => randomKey())
      await Promise.all(keys.map((key) => store.write(key, 'n', Buffer.from(key.slice(0, 4)), create)))
      const read = await Promise.all(keys.map((key) => store.get(key, 'n')))
      expect(read.map(readText)).toEqual(keys.map((key) => key.slice(0, 4)))
    } finally {
      client.disconnect()
    }
  })
})
