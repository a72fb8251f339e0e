import { Hono } from 'hono'
import { etag } from 'hono/etag'
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

  it('etag() mounted after session(): a 304 still carries the cookie of a session the request created', async () => {
    const app = new Hono<SessionEnv<{ count: number }>>()
    app.use(session(layer))
    app.use(etag())
    // The body does not depend on the session, so a revalidation matches whatever the session did.
    app.get('/', async (c) => {
      await c.get('session').update('count', 1)
      return c.text('same page')
    })
    const first = await app.request('/')
    const tag = first.headers.get('etag') ?? ''
    expect(tag).not.toBe('')
    const revalidated = await app.request('/', { headers: { 'if-none-match': tag } })
    expect(revalidated.status).toBe(304)
    const line = revalidated.headers.get('set-cookie') ?? ''
    expect(line).toMatch(/^session=[\w-]{22}(\.[\w-]+)?;/)
    expect(line.split(';')[0]).not.toBe(first.headers.get('set-cookie')?.split(';')[0])
    expect(revalidated.headers.get('cache-control')).toBe('no-store')
  })

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

  it("keeps the handler's cookies and caching out of a store failure's 503, which onError builds with them", async () => {
    const app = new Hono<SessionEnv<{ count: number }>>()
    app.use(session(layer))
    app.get('/', async (c) => {
      c.header('set-cookie', 'theme=dark; Path=/')
      c.header('cache-control', 'public, max-age=3600')
      return c.json({ count: await c.get('session').get('count') })
    })
    app.onError((_error, c) => c.text('Try again soon', 503))
    store.failing = true
    const response = await app.request('/', cookie)
    store.failing = false
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('Try again soon')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it("answers a failed commit 503 itself, with none of the handler's headers", async () => {
    const app = new Hono<SessionEnv<{ count: number }>>()
    app.use(session(layer))
    app.get('/create', async (c) => c.json({ count: await c.get('session').increment('count') }))
    app.get('/', (c) => {
      c.get('session').prepareRegenerate() // moves the session when the response goes out
      store.failing = true
      c.header('set-cookie', 'theme=dark; Path=/')
      c.header('cache-control', 'public, max-age=3600')
      return c.text('page')
    })
    app.onError((_error, c) => c.text('Try again soon', 503))
    const created = (await app.request('/create')).headers.getSetCookie()[0] ?? ''
    const response = await app.request('/', { headers: { cookie: created.slice(0, created.indexOf(';')) } })
    store.failing = false
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('no-store')
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
