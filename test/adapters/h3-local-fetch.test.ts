import { createApp, createError, eventHandler, sendRedirect, toNodeListener } from 'h3v1'
import { fetchNodeRequestHandler } from 'node-mock-http'
import { describe, expect, it, vi } from 'vitest'
import { session, untilCommitted } from '../../src/adapters/h3.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

// Nitro answers its own server-side `$fetch` / `useFetch` of an API route in process: node-mock-http's
// fetchNodeRequestHandler runs the h3 v1 app on a mock request and response, awaits the app's handler,
// then reads the body the response collected and discards it. The session holds `res.end` back until
// its commit, so the body is there only if the app awaits the commit before its handler returns, which
// Nitro's `afterResponse` hook (h3's `onAfterResponse`) does with `untilCommitted`.

type Data = { user: string; count: number }

/** An h3 v1 app as Nitro builds one (its `afterResponse` hook is h3's `onAfterResponse`). */
function nitroLikeApp(layer: SessionLayer<Data>) {
  const app = createApp({ onAfterResponse: untilCommitted })
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
  it('answers a session route with its body and cookie when the app awaits untilCommitted', async () => {
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

    store.failing = true
    // h3 logs an error no handler answered; this one is provoked, so it is asserted, not printed.
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const down = await fetchLocal(handler, '/me', cookie)
      expect(down.status).toBe(503)
      expect(down.headers.getSetCookie()).toEqual([])
      expect(log).toHaveBeenCalledWith('[h3]', '[unhandled]', expect.objectContaining({ statusCode: 503 }))
    } finally {
      log.mockRestore()
    }
  })
})
