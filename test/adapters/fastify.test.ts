import Fastify, { type FastifyReply } from 'fastify'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { fastifySession, sessionRoute } from '../../src/adapters/fastify.js'
import { SessionConfigError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { fastifyHarness } from '../helpers/fastify-harness.js'

describeAdapterBehaviour({ name: 'Fastify 5 on MemoryStore', start: fastifyHarness })

describe('Fastify adapter typing', () => {
  it('types request.session by the layer, with the route generics, without declaration merging', async () => {
    const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
    const app = Fastify()
    await app.register(fastifySession, { layer })
    app.get<{ Params: { id: string } }>(
      '/:id',
      sessionRoute(layer, async (request) => {
        expectTypeOf(request.params.id).toEqualTypeOf<string>()
        expectTypeOf(request.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
        // @ts-expect-error unknown field
        await request.session.get('missing')
        return 'ok'
      }),
    )
    await app.close()
    await layer.store.close?.()
  })
})

describe('Fastify adapter', () => {
  /** A Fastify app with the plugin: `/` writes the session, then answers through `respond`; `/ok` does neither. */
  async function serve(respond: (reply: FastifyReply) => unknown) {
    const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore(), cookie: { secure: false } })
    const app = Fastify({ logger: false })
    await app.register(fastifySession, { layer })
    app.get(
      '/',
      sessionRoute(layer, async (request, reply) => {
        await request.session.update('count', 1)
        return respond(reply)
      }),
    )
    app.get('/ok', async () => 'ok')
    return { url: await app.listen({ port: 0, host: '127.0.0.1' }), close: () => app.close() }
  }

  it('an async handler that calls reply.send() without returning reply still gets its cookie, once', async () => {
    // Fastify then sends again (the handler resolved undefined) while the first send waits for the
    // commit: the second must not write the reply without the cookie, nor make the first one throw.
    const { url, close } = await serve((reply) => {
      reply.send('sent')
    })
    try {
      const response = await fetch(url)
      expect(await response.text()).toBe('sent')
      const cookies = response.headers.getSetCookie()
      expect(cookies).toHaveLength(1)
      expect(cookies[0]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
      // The server is still there for the next request.
      expect((await fetch(url, { headers: { cookie: cookies[0]?.split(';')[0] as string } })).status).toBe(200)
    } finally {
      await close()
    }
  })

  it('closes a reply Node refuses to write (a bad header) instead of leaving it hanging', async () => {
    const { url, close } = await serve((reply) => reply.header('x-bad', 'a\nb').send('never'))
    try {
      await expect(fetch(url, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow('fetch failed')
      expect(await (await fetch(`${url}/ok`)).text()).toBe('ok')
    } finally {
      await close()
    }
  })
})

describe('Fastify adapter: a hijacked reply', () => {
  // reply.hijack() bypasses onSend: a session created after the handler wrote reply.raw's headers
  // could never reach the browser, so the write fails instead of storing an orphan.
  it('fails a write that needs a new cookie once the reply is hijacked, and stores nothing', async () => {
    const store = new MemoryStore()
    const layer = new SessionLayer<{ user: string }>({ store, cookie: { secure: false } })
    const outcomes: unknown[] = []
    const app = Fastify({ logger: false })
    await app.register(fastifySession, { layer })
    app.get(
      '/',
      sessionRoute(layer, async (request, reply) => {
        reply.hijack()
        reply.raw.writeHead(200, { 'content-type': 'text/plain' })
        reply.raw.write('streaming')
        outcomes.push(await request.session.update('user', 'ada').catch((error: { code?: string }) => error.code))
        reply.raw.end()
      }),
    )
    app.get(
      '/before-headers',
      sessionRoute(layer, async (request, reply) => {
        reply.hijack() // from here on nothing can add a cookie, headers sent or not
        outcomes.push(await request.session.update('user', 'ada').catch((error: { code?: string }) => error.code))
        reply.raw.writeHead(200, { 'content-type': 'text/plain' })
        reply.raw.end('streaming')
      }),
    )
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const response = await fetch(address)
      expect(await response.text()).toBe('streaming')
      expect(response.headers.getSetCookie()).toEqual([])
      expect(outcomes).toEqual(['ERR_SESSION_HEADERS_SENT'])
      const before = await fetch(`${address}/before-headers`)
      expect(await before.text()).toBe('streaming')
      expect(before.headers.getSetCookie()).toEqual([])
      expect(outcomes).toEqual(['ERR_SESSION_HEADERS_SENT', 'ERR_SESSION_HEADERS_SENT'])
      expect(store.size).toBe(0)
    } finally {
      await app.close()
      await store.close()
    }
  })
})

describe('Fastify adapter: a failed commit', () => {
  it("answers 503 with none of the handler's headers and no-store", async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer<{ a: number }>({ store, cookie: { secure: false } })
    const app = Fastify({ logger: false })
    await app.register(fastifySession, { layer })
    app.get(
      '/create',
      sessionRoute(layer, async (request) => {
        await request.session.update('a', 1)
        return 'created'
      }),
    )
    app.get(
      '/page',
      sessionRoute(layer, async (request, reply) => {
        request.session.prepareRegenerate() // applied, and failing, at commit
        reply.header('set-cookie', 'csrf=abc; Path=/').header('cache-control', 'public, max-age=600')
        reply.raw.setHeader('x-user-data', 'private')
        return 'page'
      }),
    )
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const cookie = (await fetch(`${address}/create`)).headers.getSetCookie()[0]?.split(';')[0] ?? ''
      store.failing = true
      const response = await fetch(`${address}/page`, { headers: { cookie } })
      expect(response.status).toBe(503)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('x-user-data')).toBeNull()
    } finally {
      await app.close()
      await store.close?.()
    }
  })
})

describe('Fastify adapter: sessionRoute() without the plugin', () => {
  it('fails the request with a SessionConfigError that names the fix, not a TypeError', async () => {
    const layer = new SessionLayer({ store: new MemoryStore(), cookie: { secure: false } })
    const app = Fastify({ logger: false })
    let caught: unknown
    app.setErrorHandler((error, _request, reply) => {
      caught = error
      return reply.status(500).send()
    })
    app.get(
      '/',
      sessionRoute(layer, async (request) => ({ count: await request.session.get('count') })),
    )
    const response = await app.inject({ url: '/' })
    expect(response.statusCode).toBe(500)
    expect(caught).toBeInstanceOf(SessionConfigError)
    expect(caught).toMatchObject({ message: expect.stringContaining('app.register(fastifySession') })
    await app.close()
  })
})
