import type { ServerResponse as NodeServerResponse } from 'node:http'
import {
  createApp,
  createError,
  eventHandler,
  type H3Error,
  type H3Event,
  send,
  sendRedirect,
  setResponseHeader,
  setResponseStatus,
  toNodeListener,
} from 'h3v1'
import { fetchNodeRequestHandler, IncomingMessage, ServerResponse } from 'node-mock-http'
import { describe, expect, it } from 'vitest'
import { deferHeadersUntilCommitted, responseCommitted } from '../../src/adapters/contract/node-headers.js'
import { nitroPlugin, session } from '../../src/adapters/h3.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

// Nitro answers its own server-side `$fetch` / `useFetch` of an API route in process: node-mock-http's
// fetchNodeRequestHandler runs the h3 v1 app on a mock request and response, awaits the app's handler,
// then reads the body the response collected and discards it. The session holds `res.end` back until
// its commit, so the body is there only if the app awaits the commit before its handler returns, which
// `nitroPlugin` makes Nitro's `afterResponse` hook (h3's `onAfterResponse`) and error handler do.

type Data = { user: string; count: number }

/**
 * An h3 v1 app as Nitro 2 builds one: its `afterResponse` hooks run in h3's `onAfterResponse`, and its
 * error handler answers a thrown error with JSON (h3 then skips `onAfterResponse`). `plugin: false`
 * leaves ruts' Nitro plugin out.
 */
function nitroLikeApp(layer: SessionLayer<Data>, plugin = true) {
  const afterResponse: Array<(event: H3Event) => unknown> = []
  const app = createApp({
    onAfterResponse: async (event) => {
      for (const hook of afterResponse) await hook(event)
    },
    onError: async (error: H3Error, event: H3Event) => {
      setResponseStatus(event, error.statusCode)
      setResponseHeader(event, 'content-type', 'application/json')
      await send(event, JSON.stringify({ statusCode: error.statusCode, message: error.message }))
    },
  })
  const nitroApp = {
    hooks: { hook: (_name: 'afterResponse', hook: (event: H3Event) => unknown) => afterResponse.push(hook) },
    h3App: app,
  }
  if (plugin) nitroPlugin(nitroApp)
  app.use(session(layer))
  const sessionOf = (event: { context: object }) => (event.context as { session: Session<Data> }).session
  app.use(
    '/me',
    eventHandler(async (event) => ({ user: (await sessionOf(event).get('user')) ?? null })),
  )
  app.use(
    '/login',
    eventHandler(async (event) => {
      await sessionOf(event).update('user', 'ada')
      return { ok: true }
    }),
  )
  app.use(
    '/remember',
    eventHandler((event) => {
      // A write the handler does not wait for: the commit does, before the response goes out.
      sessionOf(event)
        .update('user', 'bob')
        .catch(() => undefined)
      return { remembered: true }
    }),
  )
  app.use(
    '/throw-after-write',
    eventHandler((event) => {
      sessionOf(event)
        .update('user', 'eve')
        .catch(() => undefined)
      throw createError({ statusCode: 422, statusMessage: 'Unprocessable' })
    }),
  )
  app.use(
    '/go',
    eventHandler(async (event) => {
      await sessionOf(event).increment('count')
      return sendRedirect(event, '/me', 302)
    }),
  )
  app.use(
    '/invalid',
    eventHandler(async (event) => {
      await sessionOf(event).increment('count')
      throw createError({ statusCode: 422, statusMessage: 'Unprocessable' })
    }),
  )
  return toNodeListener(app)
}

const fetchLocal = (handler: ReturnType<typeof nitroLikeApp>, path: string, cookie?: string) =>
  fetchNodeRequestHandler(handler, path, cookie === undefined ? {} : { headers: { cookie } })

describe("h3 v1 under Nitro's in-process fetch (node-mock-http)", () => {
  it('answers a session route with its body and cookie, through nitroPlugin', async () => {
    const handler = nitroLikeApp(new SessionLayer<Data>({ store: new MemoryStore() }))
    const login = await fetchLocal(handler, '/login')
    expect(await login.json()).toEqual({ ok: true })
    const cookie = login.headers.getSetCookie()[0]?.split(';')[0]
    expect(cookie).toMatch(/^session=[\w-]{22}$/)
    expect(login.headers.get('cache-control')).toBe('no-store')

    // A read-only route: the body the handler returned, for the user the cookie names.
    const me = await fetchLocal(handler, '/me', cookie)
    expect(await me.json()).toEqual({ user: 'ada' })
    expect(await (await fetchLocal(handler, '/me')).json()).toEqual({ user: null })

    // A redirect and an error after a write keep the cookie of the session they created.
    const redirect = await fetchLocal(handler, '/go')
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('/me')
    expect(redirect.headers.getSetCookie()[0]).toMatch(/^session=/)
    const invalid = await fetchLocal(handler, '/invalid')
    expect(invalid.status).toBe(422)
    expect(invalid.headers.getSetCookie()[0]).toMatch(/^session=/)
    expect(await invalid.json()).toEqual({ statusCode: 422, message: 'Unprocessable' })
  })

  it('waits for a store that answers after the handler returned; a store failure answers 503 without a cookie', async () => {
    const store = countingStore(new MemoryStore())
    const handler = nitroLikeApp(new SessionLayer<Data>({ store }))
    const cookie = (await fetchLocal(handler, '/login')).headers.getSetCookie()[0]?.split(';')[0]

    const write = store.write.bind(store)
    store.write = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 30))
      return write(...args)
    }
    const slow = await fetchLocal(handler, '/go', cookie)
    expect(slow.status).toBe(302)
    expect(slow.headers.get('location')).toBe('/me')
    // The commit itself waits for the store here, after h3's handler chain ended the response.
    const remembered = await fetchLocal(handler, '/remember', cookie)
    expect(await remembered.json()).toEqual({ remembered: true })
    expect(await (await fetchLocal(handler, '/me', cookie)).json()).toEqual({ user: 'bob' })
    // The same after a throw: Nitro's error handler answers, and h3 skips its afterResponse hook.
    const invalid = await fetchLocal(handler, '/throw-after-write', cookie)
    expect(invalid.status).toBe(422)
    expect(await invalid.json()).toEqual({ statusCode: 422, message: 'Unprocessable' })
    expect(await (await fetchLocal(handler, '/me', cookie)).json()).toEqual({ user: 'eve' })

    store.failing = true
    const down = await fetchLocal(handler, '/me', cookie)
    expect(down.status).toBe(503)
    expect(down.headers.getSetCookie()).toEqual([])
    expect(await down.json()).toMatchObject({ statusCode: 503 })
  })
})

describe('a response class that keeps writableEnded itself', () => {
  it('still ends when the property cannot be redefined, instead of throwing out of end()', async () => {
    const layer = new SessionLayer<Data>({ store: new MemoryStore() })
    const handle = layer.open(undefined)
    await handle.update('user', 'ada')
    const response = new ServerResponse(new IncomingMessage())
    Object.defineProperty(response, 'writableEnded', { value: false, writable: true, configurable: false })
    const node = response as unknown as NodeServerResponse & { _data?: unknown }
    deferHeadersUntilCommitted(handle, node)
    expect(() => node.end('body')).not.toThrow()
    await responseCommitted(node)
    expect(String(node._data)).toBe('body')
    expect(String(node.getHeader('set-cookie'))).toMatch(/^session=/)
  })
})
