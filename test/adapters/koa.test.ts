import { createServer } from 'node:http'
import Koa, { type DefaultState, type ParameterizedContext } from 'koa'
import Koa2 from 'koa2'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type SessionContext, session } from '../../src/adapters/koa.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { koaHarness } from '../helpers/koa-harness.js'
import { listen } from '../helpers/listen.js'

describeAdapterBehaviour({ name: 'Koa 3 on MemoryStore', start: koaHarness(3) })
describeAdapterBehaviour({ name: 'Koa 2 on MemoryStore', start: koaHarness(2) })

describe('Koa adapter typing', () => {
  it('types ctx.session by the layer without declaration merging', async () => {
    type Data = { count: number }
    const layer = new SessionLayer<Data>({ store: new MemoryStore() })
    // Chained after `use(session(layer))`…
    new Koa().use(session(layer)).use(async (ctx) => {
      expectTypeOf(ctx.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
    })
    // …or declared on the app, or on a handler defined on its own.
    const app = new Koa<DefaultState, SessionContext<Data>>()
    app.use(session(layer))
    const handler = async (ctx: ParameterizedContext<DefaultState, SessionContext<Data>>) => {
      // @ts-expect-error wrong value type
      await ctx.session.update('count', 'one')
    }
    app.use(handler)
    await layer.store.close?.()
  })
})

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
])('%s: errors thrown by the handler', (_name, App) => {
  // A login that regenerated and then failed validation: the old id is already retired, so the
  // error must carry the new cookie, whichever error path answers it.
  it.each([
    ["Koa's own error path", false],
    ["the app's error-handling middleware", true],
  ])('carries the new cookie through %s', async (_path, ownHandler) => {
    const layer = new SessionLayer<{ user: string }>({ store: new MemoryStore(), cookie: { secure: false } })
    const app = new App()
    app.silent = true
    if (ownHandler) {
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (error) {
          ctx.status = (error as { status?: number }).status ?? 500
          ctx.body = 'invalid'
        }
      })
    }
    app.use(session(layer)).use(async (ctx) => {
      await ctx.session.update('user', 'ada')
      await ctx.session.regenerate()
      ctx.throw(422, 'invalid form')
    })
    const server = await listen(createServer(app.callback()))
    try {
      const response = await fetch(server.url)
      expect(response.status).toBe(422)
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('session='))
      expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
      expect(response.headers.get('cache-control')).toBe('no-store')
      const check = layer.open(cookie?.split(';')[0])
      expect(await check.get('user')).toBe('ada')
    } finally {
      await server.close()
    }
  })

  it("answers a store failure on Koa's own error path 503 with no-store and no cookie", async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer<{ user: string }>({ store, cookie: { secure: false } })
    const app = new App()
    app.silent = true
    app.use(session(layer)).use(async (ctx) => {
      ctx.set('cache-control', 'public, max-age=3600')
      ctx.body = { user: await ctx.session.get('user') }
    })
    const server = await listen(createServer(app.callback()))
    try {
      store.failing = true
      const response = await fetch(server.url, { headers: { cookie: 'session=AAAAAAAAAAAAAAAAAAAAAA' } })
      expect(response.status).toBe(503)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.getSetCookie()).toEqual([])
    } finally {
      await server.close()
    }
  })

  it("never puts one request's cookie on an error object other requests throw too", async () => {
    const layer = new SessionLayer<{ user: string }>({ store: new MemoryStore(), cookie: { secure: false } })
    const app = new App()
    app.silent = true
    const busy = Object.assign(new Error('slow down'), { status: 429, expose: true })
    app.use(session(layer)).use(async (ctx) => {
      await ctx.session.update('user', 'someone')
      throw busy
    })
    const server = await listen(createServer(app.callback()))
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(server.url)
        expect(response.status).toBe(429)
        expect(response.headers.getSetCookie().filter((line) => line.startsWith('session='))).toHaveLength(1)
      }
      expect((busy as { headers?: unknown }).headers).toBeUndefined()
    } finally {
      await server.close()
    }
  })
})

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
])('%s: a handler that writes ctx.res itself', (_name, App) => {
  // With ctx.respond = false the headers go out before the middleware returns: a session created
  // after that could never reach the browser, so the write fails instead of storing an orphan.
  it('fails a write that needs a new cookie once the headers went out, and stores nothing', async () => {
    const store = new MemoryStore()
    const layer = new SessionLayer<{ user: string }>({ store, cookie: { secure: false } })
    const outcomes: unknown[] = []
    const app = new App()
    app.use(session(layer)).use(async (ctx) => {
      ctx.respond = false
      ctx.res.writeHead(200, { 'content-type': 'text/plain' })
      ctx.res.write('streaming')
      outcomes.push(await ctx.session.update('user', 'ada').catch((error: { code?: string }) => error.code))
      ctx.res.end()
    })
    const server = await listen(createServer(app.callback()))
    try {
      const response = await fetch(server.url)
      expect(await response.text()).toBe('streaming')
      expect(response.headers.getSetCookie()).toEqual([])
      expect(outcomes).toEqual(['ERR_SESSION_HEADERS_SENT'])
      expect(store.size).toBe(0)
    } finally {
      await server.close()
      await store.close()
    }
  })
})
