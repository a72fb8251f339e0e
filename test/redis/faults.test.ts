import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SessionStoreError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { suiteHandler } from '../../src/testing/adapter-routes.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { expressHarness } from '../helpers/express-harness.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, sleep, text } from './clients.js'
import { cli, type RedisProcess, startRedis, stopAll } from './server.js'

// A private server that these tests pause, kill and restart on the same port. The clients use the
// settings docs/redis.md recommends, so an outage fails fast instead of queueing commands.
const TIMEOUT = 500
const MARGIN = 400
const PAUSE = 1_500
const create = writeOptionsFor('create', 600)

const clients = {
  ioredis: async (port: number) => {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1_000,
      retryStrategy: (attempt) => Math.min(attempt * 50, 500),
    })
    client.on('error', () => {}) // reconnect errors are expected here
    await client.connect()
    return { client, close: async () => void client.disconnect() }
  },
  'node-redis': async (port: number) => {
    const client = createClient({
      disableOfflineQueue: true,
      socket: {
        host: '127.0.0.1',
        port,
        connectTimeout: 1_000,
        reconnectStrategy: (retries) => Math.min(retries * 50, 500),
      },
    })
    client.on('error', () => {}) // without a listener node-redis would crash the process on 'error'
    await client.connect()
    return { client, close: async () => void client.destroy() }
  },
}

/** How `work` failed, and how long it took. */
async function failure(work: () => Promise<unknown>): Promise<{ error: unknown; elapsed: number }> {
  const started = performance.now()
  const error = await work().then(
    () => undefined,
    (caught: unknown) => caught,
  )
  return { error, elapsed: performance.now() - started }
}

/** Retry `work` until it succeeds (the client reconnecting), at most `within` ms. */
async function eventually<T>(work: () => Promise<T>, within = 10_000): Promise<T> {
  const until = Date.now() + within
  for (;;) {
    try {
      return await work()
    } catch (error) {
      if (Date.now() > until) throw error
      await sleep(100)
    }
  }
}

describeRedis('RedisStore when the server hangs or dies', () => {
  let server: RedisProcess
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    if (server) await stopAll([server])
  })

  const restart = async () => {
    server = await startRedis({ port: server.port, dir: server.dir })
  }

  it.each(Object.entries(clients))('fails within the timeout and recovers (%s)', async (_, connect) => {
    const { client, close } = await connect(server.port)
    try {
      const store: SessionStore = new RedisStore({ client, timeout: TIMEOUT })
      const key = randomKey()
      await store.write(key, 'a', bytes('1'), create)

      await cli(server.port, 'CLIENT', 'PAUSE', String(PAUSE), 'ALL')
      const paused = await failure(() => store.get(key, 'a'))
      expect(paused.error).toBeInstanceOf(SessionStoreError)
      expect(paused.error).toMatchObject({ code: 'ERR_SESSION_STORE_TIMEOUT', status: 503 })
      expect(paused.elapsed).toBeGreaterThanOrEqual(TIMEOUT - 20)
      expect(paused.elapsed).toBeLessThan(TIMEOUT + MARGIN)
      const after = await eventually(() => store.get(key, 'a'))
      expect(after.live && text(after.value)).toBe('1')

      await server.stop(true)
      for (let attempt = 0; attempt < 3; attempt++) {
        const down = await failure(() => store.get(key, 'a'))
        expect(down.error).toBeInstanceOf(SessionStoreError)
        expect((down.error as SessionStoreError).code).toMatch(/^ERR_SESSION_STORE(_TIMEOUT)?$/)
        expect((down.error as SessionStoreError).cause).toBeDefined()
        expect(down.elapsed).toBeLessThan(TIMEOUT + MARGIN)
      }

      await restart()
      // Persistence is off on this server: the session is gone, and new ones can be created.
      expect(await eventually(() => store.get(key, 'a'))).toEqual({ live: false })
      expect(await store.write(key, 'a', bytes('2'), create)).toMatchObject({ status: 'written' })
    } finally {
      await close()
    }
  })

  it('answers 503 without Set-Cookie through Express, and serves again afterwards', async () => {
    const { client, close } = await clients.ioredis(server.port)
    const layer = new SessionLayer({ store: new RedisStore({ client, timeout: TIMEOUT }), cookie: { maxAge: 3600 } })
    const app = await expressHarness(5)(layer as SessionLayer, suiteHandler)
    try {
      const browser = new CookieClient(app.url)
      expect((await browser.request('/update?field=a&value=1')).status).toBe(200)

      await cli(server.port, 'CLIENT', 'PAUSE', String(PAUSE), 'ALL')
      const started = performance.now()
      const paused = await browser.request('/get?field=a')
      expect(paused.status).toBe(503)
      expect(paused.setCookies).toEqual([])
      expect(performance.now() - started).toBeLessThan(TIMEOUT + MARGIN)
      const back = await eventually(async () => {
        const response = await browser.request('/get?field=a')
        if (response.status !== 200) throw new Error(`status ${response.status}`)
        return response
      })
      expect(back.json).toMatchObject({ value: 1 })

      await server.stop(true)
      const down = await browser.request('/get?field=a')
      expect(down.status).toBe(503)
      expect(down.setCookies).toEqual([])

      await restart()
      const recovered = await eventually(async () => {
        const response = await browser.request('/update?field=a&value=2')
        if (response.status !== 200) throw new Error(`status ${response.status}`)
        return response
      })
      // The restarted server lost the session (no persistence): a fresh one is issued.
      expect(recovered.sessionCookie).toMatch(/^session=/)
    } finally {
      await app.close()
      await close()
    }
  })
})
