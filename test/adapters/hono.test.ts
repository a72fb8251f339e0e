import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type SessionEnv, session } from '../../src/adapters/hono.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { honoHarness } from '../helpers/hono-harness.js'

describeAdapterBehaviour({ name: 'Hono 4 (@hono/node-server) on MemoryStore', start: honoHarness })

describe('Hono adapter', () => {
  const store = countingStore(new MemoryStore())
  const layer = new SessionLayer<{ count: number }>({ store })
  const cookie = { headers: { cookie: 'session=AAAAAAAAAAAAAAAAAAAAAA' } }
  const failingApp = () => {
    const app = new Hono<SessionEnv<{ count: number }>>()
    app.use(session(layer))
    app.get('/', async (c) => c.json({ count: await c.get('session').get('count') }))
    return app
  }

  it('types c.get("session") through SessionEnv', () => {
    new Hono<SessionEnv<{ count: number }>>().get('/', async (c) => {
      expectTypeOf(c.get('session').get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(c.var.session).toEqualTypeOf(c.get('session'))
      return c.text('ok')
    })
  })

  it("answers a store failure 503 through the user's onError, keeping its body", async () => {
    const app = failingApp()
    app.onError((error, c) => c.json({ handled: error.name }, 500))
    store.failing = true
    const response = await app.request('/', cookie)
    store.failing = false
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ handled: 'SessionStoreError' })
  })

  it('keeps any other status the user chose for a store failure', async () => {
    const app = failingApp()
    app.onError((_error, c) => c.text('maintenance', 429))
    store.failing = true
    const response = await app.request('/', cookie)
    store.failing = false
    expect(response.status).toBe(429)
  })

  it('leaves other errors on the default 500 path', async () => {
    const app = new Hono()
    app.onError((_error, c) => c.text('oops', 500))
    app.use(session(layer))
    app.get('/', () => {
      throw new Error('boom')
    })
    expect((await app.request('/')).status).toBe(500)
  })
})
