import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SessionLayer } from '../src/core/layer.js'
import type { SessionStore } from '../src/core/store.js'
import { LayeredStore } from '../src/stores/layered/index.js'
import { MemoryStore } from '../src/stores/memory.js'
import { suiteHandler } from '../src/testing/adapter-routes.js'
import type { RunningServer, StartServer } from '../src/testing/adapter-suite.js'
import { CookieClient } from '../src/testing/http-client.js'
import { sleep } from '../src/testing/values.js'
import { expressHarness } from './helpers/express-harness.js'
import { honoHarness } from './helpers/hono-harness.js'
import { skipReason as postgresSkip, testPool, testStore } from './postgres/helpers.js'
import { clientKinds, connections, skipReason as redisSkip, storeFor } from './redis/clients.js'

// The motivating cases of increment and take, through real HTTP servers (Express 5 and Hono) on
// every store: a visit counter under 50 concurrent requests, a flash message among 10 concurrent
// readers, and a fixed-window rate limit.
// Generous: 50 requests at once on a loaded 2-core machine (the assertions do not depend on time,
// except the rate-limit window, which allows a second of slack).
const TIMEOUT = 60_000
const connect = connections()
// One small pool for every Postgres-backed server here: the database is shared with other suites.
let pool: ReturnType<typeof testPool> | undefined
const postgresStore = () => {
  pool ??= testPool({ max: 8 })
  return testStore({ pool })
}
const redisKind = (name: string) => {
  const kind = clientKinds.find((each) => each.name === name)
  if (kind === undefined) throw new Error(`no Redis client kind ${name}`)
  return kind
}

interface StoreCase {
  name: string
  create: () => Promise<SessionStore>
  skip: string | undefined
  /** The store has a round trip between a get and the update after it, so get + update races. */
  racy: boolean
}

const stores: StoreCase[] = [
  { name: 'MemoryStore', create: async () => new MemoryStore(), skip: undefined, racy: false },
  {
    name: 'RedisStore (ioredis standalone)',
    create: async () => storeFor((await connect(redisKind('ioredis standalone'))).client),
    skip: redisSkip,
    racy: true,
  },
  {
    name: 'RedisStore (node-redis Cluster)',
    create: async () => storeFor((await connect(redisKind('node-redis Cluster'))).client),
    skip: redisSkip,
    racy: true,
  },
  { name: 'PostgresStore', create: postgresStore, skip: postgresSkip, racy: true },
  {
    name: 'LayeredStore (MemoryStore over PostgresStore)',
    create: async () => new LayeredStore({ hot: new MemoryStore(), cold: await postgresStore() }),
    skip: postgresSkip,
    racy: true,
  },
]
const adapters: [string, StartServer][] = [
  ['Express 5', expressHarness(5)],
  ['Hono', honoHarness],
]

for (const store of stores) {
  for (const [adapter, start] of adapters) {
    const title = `increment and take over HTTP: ${adapter} on ${store.name}`
    // Sequential tests: each one already sends its requests at once.
    const suite = store.skip === undefined ? describe : describe.skip
    suite(store.skip === undefined ? title : `${title} (skipped: ${store.skip})`, () => {
      let server: RunningServer
      beforeAll(async () => {
        const layer = new SessionLayer({ store: await store.create(), cookie: { secure: false } })
        server = await start(layer, suiteHandler)
      })
      afterAll(() => server?.close())

      /** A browser with a session, and `count` copies of its cookie sending requests at once. */
      const burst = async (seed: string, count: number, path: string) => {
        const browser = new CookieClient(server.url)
        await browser.request(seed)
        const responses = await Promise.all(Array.from({ length: count }, () => browser.request(path)))
        return { browser, responses }
      }

      it('counts all of 50 concurrent visits with increment', { timeout: TIMEOUT }, async () => {
        const { browser, responses } = await burst('/increment?field=visits', 50, '/increment?field=visits')
        expect(responses.every((response) => response.status === 200)).toBe(true)
        const seen = responses.map((response) => (response.json as { value: number }).value).sort((a, b) => a - b)
        expect(seen).toEqual(Array.from({ length: 50 }, (_, index) => index + 2))
        expect((await browser.request('/get?field=visits')).json).toMatchObject({ value: 51 })
      })

      it.runIf(store.racy)('loses visits when counting with get + update instead', { timeout: TIMEOUT }, async () => {
        const { browser } = await burst('/update?field=visits&value=0', 50, '/count-by-get-and-update?field=visits')
        const counted = ((await browser.request('/get?field=visits')).json as { value: number }).value
        expect(counted).toBeLessThan(50)
      })

      it('shows a flash message to exactly one of 10 concurrent take requests', { timeout: TIMEOUT }, async () => {
        const { responses } = await burst('/update?field=flash&value="Saved!"', 10, '/take?field=flash')
        const shown = responses.map((response) => (response.json as { value: unknown }).value)
        expect(shown.filter((value) => value === 'Saved!')).toHaveLength(1)
        expect(shown.filter((value) => value === null)).toHaveLength(9)
      })

      // Timing-bound: once per store is enough (the window is the store's, not the adapter's).
      it.runIf(adapter === 'Express 5')(
        'keeps a fixed rate-limit window when later increments come',
        {
          timeout: TIMEOUT,
        },
        async () => {
          const browser = new CookieClient(server.url)
          const attempt = async () =>
            ((await browser.request('/increment?field=attempts&ttl=3')).json as { value: number }).value
          expect(await attempt()).toBe(1)
          await sleep(1_000)
          // Had this increment restarted the window, it would last until about 4 s.
          expect(await attempt()).toBe(2)
          await sleep(2_300)
          expect((await browser.request('/get?field=attempts')).json).toMatchObject({ value: null })
          expect(await attempt()).toBe(1)
        },
      )
    })
  }
}
