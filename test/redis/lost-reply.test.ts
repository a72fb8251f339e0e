import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { Redis } from 'ioredis'
import { createClient, createSentinel } from 'redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RedisClient, RedisStore } from '../../src/stores/redis/index.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { describeRedis, randomKey, uniquePrefix } from './clients.js'
import { MASTER_NAME, type SentinelTopology, startSentinelTopology } from './sentinel-topology.js'

/**
 * A TCP proxy on a free loopback port to `target`: `wire` connects each accepted client to its own
 * upstream connection (how data flows is the caller's); either side's end or error ends both.
 * `sockets` are those open now.
 */
async function tcpProxy(
  target: number,
  wire: (client: Socket, upstream: Socket) => void,
): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1')
    sockets.add(client).add(upstream)
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('error', () => to.destroy())
      from.on('close', () => {
        to.destroy()
        sockets.delete(from)
      })
    }
    wire(client, upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A TCP proxy to the primary that, once armed, lets the next command containing `FCALL` through and
 * then closes the client's connection instead of passing its reply on: the write ran, and the
 * client never hears so.
 */
async function dropReplyProxy(target: number): Promise<{ port: number; arm(): void; close(): Promise<void> }> {
  let armed = false
  const proxy = await tcpProxy(target, (client, upstream) => {
    let dropping = false
    client.on('data', (chunk) => {
      if (armed && chunk.includes('FCALL')) {
        armed = false
        dropping = true
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (dropping) {
        client.destroy()
        upstream.destroy()
        return
      }
      client.write(chunk)
    })
  })
  return {
    port: proxy.port,
    arm: () => {
      armed = true
    },
    close: proxy.close,
  }
}

interface Kind {
  name: string
  connect(topology: SentinelTopology, proxy: number): Promise<{ client: RedisClient; close(): Promise<void> }>
}

// Each client as docs/failure-model.md recommends, its connection to the primary through the proxy.
const kinds: Kind[] = [
  {
    name: 'node-redis createSentinel',
    async connect(topology, proxy) {
      const client = createSentinel({
        name: MASTER_NAME,
        sentinelRootNodes: topology.sentinels.map((each) => ({ host: '127.0.0.1', port: each.port })),
        nodeAddressMap: { [`127.0.0.1:${topology.primary.port}`]: { host: '127.0.0.1', port: proxy } },
      })
      client.on('error', () => undefined)
      await client.connect()
      return { client, close: async () => void (await client.destroy()) }
    },
  },
  {
    name: 'node-redis createClient',
    async connect(_topology, proxy) {
      const client = createClient({ socket: { host: '127.0.0.1', port: proxy }, disableOfflineQueue: true })
      client.on('error', () => undefined)
      await client.connect()
      return { client, close: async () => void client.destroy() }
    },
  },
  {
    name: 'ioredis',
    async connect(_topology, proxy) {
      const client = new Redis({
        host: '127.0.0.1',
        port: proxy,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        autoResendUnfulfilledCommands: false,
      })
      client.on('error', () => undefined)
      await client.connect()
      return { client, close: async () => void client.disconnect() }
    },
  },
]

// A connection that dies after a write ran and before its reply arrived: the store reports the
// write failed or, had the client sent it again, applied twice. node-redis's Sentinel client did
// send it again (an increment counted twice) until the store kept its exchanges from throwing.
describeRedis('RedisStore when the connection dies with the reply of a write', () => {
  let topology: SentinelTopology
  beforeAll(async () => {
    topology = await startSentinelTopology()
  })
  afterAll(async () => {
    await topology?.stop()
  })

  it.each(kinds)('never applies the write twice ($name)', async (kind) => {
    const proxy = await dropReplyProxy(topology.primary.port)
    const { client, close } = await kind.connect(topology, proxy.port)
    try {
      const store = new RedisStore({ client, prefix: uniquePrefix() })
      const key = randomKey()
      const increment = (session: 'create' | 'existing', by: number) =>
        store.increment(key, 'n', { ...writeOptionsFor(session, 600), by, format: 'json' })
      expect(await increment('create', 1)).toMatchObject({ value: 1 })
      proxy.arm()
      const lost = await increment('existing', 1).catch((error: unknown) => error)
      // Failed (the connection closed) or timed out (the client waits to reconnect): a store error.
      expect((lost as { code?: string }).code).toMatch(/^ERR_SESSION_STORE(_TIMEOUT)?$/)
      // The increment whose reply was lost ran once.
      await expect
        .poll(() => increment('existing', 0).catch(() => undefined), { timeout: 5_000 })
        .toMatchObject({
          value: 2,
        })
    } finally {
      await close()
      await proxy.close()
    }
  })
})

/**
 * A TCP proxy to the primary. `stall(ms)` closes every connection it has; a connection made in the
 * next `ms` is accepted but hears nothing until they have passed: the client reconnects, and waits.
 */
async function stallingProxy(
  target: number,
): Promise<{ port: number; stall(ms: number): void; close(): Promise<void> }> {
  let until = 0
  const proxy = await tcpProxy(target, (client, upstream) => {
    const pass = () => {
      client.pipe(upstream)
      upstream.pipe(client)
    }
    const wait = until - performance.now()
    if (wait > 0) setTimeout(pass, wait)
    else pass()
  })
  return {
    port: proxy.port,
    stall(ms) {
      until = performance.now() + ms
      for (const socket of proxy.sockets) socket.destroy()
    },
    close: proxy.close,
  }
}

// node-redis' Sentinel client holds a command while it cannot reach the primary, and sends it once
// it can again: possibly long after the store reported the call failed. A write sent then would
// land after its request answered 503 (a regenerate moving a session to an id nobody learned).
describeRedis('RedisStore when the client holds a command past the deadline', () => {
  let topology: SentinelTopology
  beforeAll(async () => {
    topology = await startSentinelTopology()
  })
  afterAll(async () => {
    await topology?.stop()
  })

  // A write (a create: the key would appear) and a logout (a delete: the session would go). node-redis'
  // Sentinel client held each and sent it when it could; the others refuse a command while they
  // reconnect.
  const cases = kinds.flatMap((kind) =>
    (['write', 'delete'] as const).map((operation) => ({ name: kind.name, kind, operation })),
  )
  it.each(cases)('sends no $operation once the store has given up ($name)', async ({ kind, operation }) => {
    const proxy = await stallingProxy(topology.primary.port)
    const { client, close } = await kind.connect(topology, proxy.port)
    const raw = new Redis({ host: '127.0.0.1', port: topology.primary.port, lazyConnect: true })
    await raw.connect()
    try {
      const prefix = uniquePrefix()
      const store = new RedisStore({ client, prefix, timeout: 300 })
      const [fresh, kept] = [randomKey(), randomKey()]
      expect(await store.write(kept, 'user', Buffer.from('grace'), writeOptionsFor('create', 600))).toMatchObject({
        status: 'written',
      })
      proxy.stall(1_000)
      // The client has seen its connection close, and is reconnecting.
      await new Promise((resolve) => setTimeout(resolve, 100))
      const failed = await (operation === 'write'
        ? store.write(fresh, 'user', Buffer.from('ada'), writeOptionsFor('create', 600))
        : store.delete(kept)
      ).catch((error: unknown) => error)
      expect((failed as { code?: string }).code).toMatch(/^ERR_SESSION_STORE(_TIMEOUT)?$/)
      // Once the client reaches the primary again, what it held back goes out, ahead of a later
      // write on the same connection: when that one is written, the held one would be too.
      const patient = new RedisStore({ client, prefix, timeout: 5_000 })
      const later = () =>
        patient.write(randomKey(), 'user', Buffer.from('after'), writeOptionsFor('create', 600)).then(
          (result) => result.status,
          () => 'failed',
        )
      await expect.poll(later, { timeout: 8_000, interval: 100 }).toBe('written')
      // Nothing landed: no session at `fresh`, and `kept` still there.
      expect([await raw.exists(`${prefix}{${fresh}}`), await raw.exists(`${prefix}{${kept}}`)]).toEqual([0, 1])
    } finally {
      raw.disconnect()
      await close()
      await proxy.close()
    }
  })
})
