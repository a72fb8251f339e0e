import { createServer } from 'node:http'
import { H3, HTTPError, HTTPResponse } from 'h3'
import { createApp, eventHandler, sendNoContent, sendRedirect, toNodeListener as toNodeListenerOf } from 'h3v1'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { session, sessionOf } from '../../src/adapters/h3.js'
import { sessionOf as sveltekitSessionOf } from '../../src/adapters/sveltekit.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { h3Harness, h3v1Harness } from '../helpers/h3-harness.js'
import { listen } from '../helpers/listen.js'

describeAdapterBehaviour({ name: 'h3 2 (node:http via h3/node) on MemoryStore', start: h3Harness })
describe('h3 1', () => {
  // h3 1 logs every error that is not an H3Error; the suite provokes store failures on purpose.
  const logged: unknown[] = []
  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.at(-1)))
  })
  afterAll(() => {
    vi.mocked(console.error).mockRestore()
    expect(logged.length).toBeGreaterThan(0)
    for (const error of logged) expect(error).toMatchObject({ statusCode: 503 })
  })
  describeAdapterBehaviour({ name: 'h3 1 (node:http via toNodeListener) on MemoryStore', start: h3v1Harness })
})

describe('h3 adapter', () => {
  const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })

  it('adds the cookie to a Response the handler returns with an error status (h3 would drop it)', async () => {
    const app = new H3().use(session(layer))
    app.get('/', async (event) => {
      await (event.context.session as Session<{ count: number }>).update('count', 1)
      return new Response('invalid', { status: 422, headers: { 'set-cookie': 'own=1; Path=/' } })
    })
    const response = await app.request('/')
    expect(response.status).toBe(422)
    const cookies = response.headers.getSetCookie()
    expect(cookies[0]).toBe('own=1; Path=/')
    expect(cookies[1]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    expect(cookies).toHaveLength(2)
  })

  it('gives the session typed by the layer through sessionOf, without declaring H3EventContext', async () => {
    const app = new H3().use(session(layer))
    app.get('/', async (event) => {
      const typed = sessionOf(event, layer)
      expectTypeOf(typed.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      // @ts-expect-error count holds a number (type-checked only, never called)
      const wrong = () => typed.update('count', 'one')
      void wrong
      const count = ((await typed.get('count')) ?? 0) + 1
      await typed.update('count', count)
      return { count }
    })
    const first = await app.request('/')
    expect(await first.json()).toEqual({ count: 1 })
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    expect(await (await app.request('/', { headers: { cookie } })).json()).toEqual({ count: 2 })
    // Without the middleware there is no session to give: a configuration error, not undefined.
    expect(() => sessionOf({ context: {} }, layer)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
    // SvelteKit's accessor reads event.locals the same way.
    const handle = layer.open(undefined)
    expect(sveltekitSessionOf({ locals: { session: handle } }, layer)).toBe(handle)
    const read = () => sveltekitSessionOf({ locals: {} }, layer).get('count')
    expectTypeOf(read).returns.toEqualTypeOf<Promise<number | undefined>>()
    expect(() => sveltekitSessionOf({ locals: {} }, layer)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    )
  })

  it('leaves a request that never touches the session alone', async () => {
    const app = new H3().use(session(layer))
    app.get('/', () => 'untouched')
    const response = await app.request('/')
    expect(await response.text()).toBe('untouched')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBeNull()
  })

  it('h3 2: a 5xx returned as an HTTPResponse or an HTTPError after a store failure goes out without the cookie', async () => {
    const failing = countingStore(new MemoryStore())
    const app = new H3().use(session(new SessionLayer({ store: failing })))
    app.get('/', async (event) => {
      const handle = event.context.session as Session
      await handle.update('a', 1)
      failing.failing = true
      await handle.get('b').catch(() => undefined)
      failing.failing = false
      return event.url.searchParams.has('error')
        ? new HTTPError({ status: 503, message: 'degraded' })
        : new HTTPResponse('degraded', { status: 503 })
    })
    for (const path of ['/', '/?error']) {
      const response = await app.request(path)
      expect(response.status).toBe(503)
      expect(response.headers.getSetCookie()).toEqual([])
    }
  })

  it('h3 2: a client error thrown after a regenerate still carries the new cookie (the old id is gone)', async () => {
    const app = new H3({ silent: true }).use(session(layer))
    app.get('/login', async (event) => {
      const handle = event.context.session as Session<{ count: number }>
      await handle.update('count', 1)
      await handle.regenerate()
      throw new HTTPError({ status: 422, message: 'invalid form' })
    })
    app.get('/status', (event) => {
      event.res.status = 409
      void (event.context.session as Session<{ count: number }>).update('count', 1)
      return { conflict: true }
    })
    for (const path of ['/login', '/status']) {
      const response = await app.request(path)
      expect(response.status).toBeGreaterThanOrEqual(400)
      expect(response.headers.getSetCookie()[0]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
      expect(response.headers.get('cache-control')).toBe('no-store')
    }
  })
})

describe('h3 1 adapter: a handler that ends the response itself', () => {
  // h3 1 decides whether a handler answered from `writableEnded`; while the session holds the end
  // back for its cookie, that must already read true, or h3 answers 404 on top and the replayed end
  // writes after end (an uncaught 'error' that ends the process).
  const routes = {
    '/logout': async (handle: Session, event: Parameters<typeof sendNoContent>[0]) => {
      await handle.delete()
      return sendNoContent(event)
    },
    '/rotate': async (handle: Session, event: Parameters<typeof sendNoContent>[0]) => {
      handle.prepareRegenerate()
      return sendRedirect(event, '/home', 302)
    },
    '/raw': async (handle: Session, event: Parameters<typeof sendNoContent>[0]) => {
      void handle.update('a', 1)
      event.node.res.end('raw')
    },
  }

  it.each(Object.keys(routes))('answers %s once, with its own status', async (path) => {
    const app = createApp()
    app.use(session(new SessionLayer({ store: new MemoryStore(), cookie: { secure: false } })))
    app.use(eventHandler((event) => routes[event.path as keyof typeof routes](event.context.session as Session, event)))
    const server = await listen(createServer(toNodeListenerOf(app)))
    try {
      const response = await fetch(`${server.url}${path}`, {
        redirect: 'manual',
        headers: { cookie: 'session=AAAAAAAAAAAAAAAAAAAAAA' },
      })
      expect(response.status).toBe({ '/logout': 204, '/rotate': 302, '/raw': 200 }[path])
      if (path === '/raw') expect(await response.text()).toBe('raw')
      if (path === '/raw') expect(response.headers.getSetCookie()[0]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    } finally {
      await server.close()
    }
  })
})
