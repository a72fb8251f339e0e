import { describe, expect, it } from 'vitest'
import { jarCookie } from '../../src/adapters/contract/cookie-jar.js'
import { type SessionRequestEvent, session } from '../../src/adapters/sveltekit.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { legacySessions } from '../../src/legacy/express-session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore, UNREACHABLE_FIELD } from '../../src/testing/counting-store.js'
import { LEGACY_SECRET, legacyCookieValue, legacyStore } from '../legacy/fixture.js'

// The hook on its own, for what the example app's build (test/frameworks/sveltekit.test.ts) does not
// switch on: remote functions are experimental in SvelteKit 2 (`kit.experimental.remoteFunctions`).
// Their calls answer 200 and report an error in the body, as SvelteKit's remote.js does.
const layer = new SessionLayer({ store: countingStore(new MemoryStore()) })
const hook = session(layer)

/** A remote function's call that writes the session, meets a store failure, and reports `status`. */
async function remoteCall(status: number): Promise<Response> {
  const url = new URL('http://localhost/_app/remote/abc/save')
  const event: SessionRequestEvent = {
    request: new Request(url, { method: 'POST', body: '{}' }),
    url,
    locals: {},
    isRemoteRequest: true,
  }
  return hook({
    event,
    resolve: async ({ locals }) => {
      const handle = (locals as { session: Session }).session
      await handle.update('user', 'ada')
      await handle.get(UNREACHABLE_FIELD).catch(() => undefined)
      return Response.json({ type: 'error', error: { message: 'Internal Error' }, status })
    },
  })
}

describe('SvelteKit hook: remote functions', () => {
  it('answers 503 without a cookie when a call met a store failure and SvelteKit reports a 500 inside a 200', async () => {
    const response = await remoteCall(500)
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('keeps the 200 and its cookie when the reported error is a client error (the app chose the answer)', async () => {
    const response = await remoteCall(401)
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^session=[A-Za-z0-9_-]{22}; /)])
  })
})

describe('SvelteKit hook: a live remote query after a store failure', () => {
  it('passes its event stream on at once, without waiting for an event', async () => {
    const url = new URL('http://localhost/_app/remote/abc/live')
    const never = new ReadableStream<Uint8Array>() // a live query that has sent nothing yet
    const response = await Promise.race([
      hook({
        event: { request: new Request(url), url, locals: {}, isRemoteRequest: true },
        resolve: async ({ locals }) => {
          const handle = (locals as { session: Session }).session
          await handle.update('user', 'ada')
          await handle.get(UNREACHABLE_FIELD).catch(() => undefined)
          return new Response(never, { headers: { 'content-type': 'text/event-stream' } })
        },
      }),
      new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 1_000)),
    ])
    expect(response).toBeInstanceOf(Response)
    expect((response as Response).status).toBe(200)
    await (response as Response).body?.cancel()
  })
})

describe('SvelteKit hook: a redirect() thrown by a later hook', () => {
  it('sets the session cookie and the express-session removal through event.cookies, with their attributes', async () => {
    const legacy = legacyStore()
    await legacy.put('sid-1', { count: 5 })
    const migrating = new SessionLayer({
      store: new MemoryStore(),
      legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET }),
    })
    const set: Array<[string, string, Record<string, unknown>]> = []
    const url = new URL('http://localhost/login')
    const event: SessionRequestEvent = {
      request: new Request(url, { headers: { cookie: `connect.sid=${legacyCookieValue('sid-1', LEGACY_SECRET)}` } }),
      url,
      locals: {},
      cookies: { set: (name, value, options) => void set.push([name, value, options]) },
    }
    const redirect = Object.assign(new Error('Redirect'), { status: 303, location: '/' })
    const thrown = await session(migrating)({
      event,
      resolve: async ({ locals }) => {
        const handle = (locals as { session: Session }).session
        expect(await handle.get('count')).toBe(5)
        await handle.regenerate()
        throw redirect
      },
    }).catch((error: unknown) => error)
    expect(thrown).toBe(redirect)
    expect(set.map(([name]) => name)).toEqual(['session', 'connect.sid'])
    const [sessionCookie, removal] = set
    expect(sessionCookie?.[1]).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(sessionCookie?.[2]).toMatchObject({
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      partitioned: false,
    })
    expect(sessionCookie?.[2].maxAge).toBeGreaterThan(86_000)
    expect(removal?.[1]).toBe('')
    expect(removal?.[2]).toMatchObject({ maxAge: 0, path: '/', httpOnly: true })
    expect(await legacy.read('sid-1')).toBeUndefined()
  })
})

describe('jarCookie', () => {
  it('reads back every attribute of a line ruts writes, values with = in them included', () => {
    const line =
      '__Host-s=abc.def; Max-Age=60; Path=/app=1; Domain=example.com; HttpOnly; Secure; SameSite=None; Partitioned'
    expect(jarCookie(line)).toEqual({
      name: '__Host-s',
      value: 'abc.def',
      options: {
        maxAge: 60,
        path: '/app=1',
        domain: 'example.com',
        httpOnly: true,
        secure: true,
        sameSite: 'none',
        partitioned: true,
      },
    })
    const removal = jarCookie('connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly')
    expect(removal).toMatchObject({
      name: 'connect.sid',
      value: '',
      options: { maxAge: 0, httpOnly: true, secure: false },
    })
    expect(removal.options.expires?.getTime()).toBe(0)
  })
})
