import { afterEach, describe, expect, it } from 'vitest'
import { SessionLayer } from '../../src/core/layer.js'
import { legacySessions } from '../../src/legacy/express-session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { suiteHandler } from '../../src/testing/adapter-routes.js'
import type { RunningServer, StartServer } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { expressHarness } from '../helpers/express-harness.js'
import { fastifyHarness } from '../helpers/fastify-harness.js'
import { honoHarness, webHarness } from '../helpers/hono-harness.js'
import { koaHarness } from '../helpers/koa-harness.js'
import { LEGACY_SECRET, legacyCookieValue, legacyStore } from './fixture.js'

// A migrating response carries two Set-Cookie lines (the ruts cookie and the legacy removal) next to
// the handler's own: every adapter must send each as its own header.
const harnesses: Record<string, StartServer> = {
  'Express 4': expressHarness(4),
  'Express 5': expressHarness(5),
  'Fastify 5': fastifyHarness,
  'Hono 4': honoHarness,
  'Koa 2': koaHarness(2),
  'Koa 3': koaHarness(3),
  Web: webHarness,
}
let running: RunningServer | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe.each(Object.entries(harnesses))('a migrating request through %s', (_name, start) => {
  it('sends the ruts cookie, the legacy removal and the handler cookie, each its own header', async () => {
    const legacy = legacyStore()
    await legacy.put('sid-1', { count: 5 })
    const layer = new SessionLayer({
      store: new MemoryStore(),
      cookie: { secure: false },
      legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET }),
    })
    running = await start(layer, async (session, url) => {
      const answer = await suiteHandler(session, url)
      return { ...answer, setCookies: ['theme=dark; Path=/'] }
    })
    const response = await fetch(`${running.url}/get?field=count`, {
      headers: { cookie: `connect.sid=${legacyCookieValue('sid-1', LEGACY_SECRET)}` },
    })
    expect(((await response.json()) as { value: unknown }).value).toBe(5)
    const lines = response.headers.getSetCookie()
    expect(lines).toHaveLength(3)
    expect(lines).toContain('theme=dark; Path=/')
    expect(lines).toContain('connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly')
    expect(lines.find((line) => line.startsWith('session='))).toMatch(/^session=[A-Za-z0-9_-]{22}; Max-Age=/)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('a request that migrates and then fails answers 503 with no cookie, and signs nobody out', async () => {
    const legacy = legacyStore()
    await legacy.put('sid-1', { count: 5 })
    const store = new MemoryStore()
    const options = { store: countingStore(store), cookie: { secure: false } }
    const layer = new SessionLayer({ ...options, legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET }) })
    running = await start(layer, suiteHandler)
    const cookie = `connect.sid=${legacyCookieValue('sid-1', LEGACY_SECRET)}`
    // The write migrates the legacy session into a copy and lands in it; the next call fails.
    const failed = await fetch(`${running.url}/then-unreachable?field=seen&value=1`, { headers: { cookie } })
    expect(failed.status).toBe(503)
    expect(failed.headers.getSetCookie()).toEqual([])
    expect(legacy.calls.destroy).toBe(0)
    expect(await legacy.read('sid-1')).toMatchObject({ count: 5 })
    // The browser still holds only the legacy cookie; another process (no shared memory of the
    // migration) picks it up again.
    const other = new SessionLayer({ ...options, legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET }) })
    const elsewhere = other.open(cookie)
    expect(await elsewhere.get('count')).toBe(5)
    elsewhere.seal() // answered without its cookie, as a failed response is
    // A retry on this process, even after a failed request that had moved the copy (a login), reads
    // the legacy session again rather than the copy the failed request held.
    const moved = await fetch(`${running.url}/then-unreachable?regenerate=1`, { headers: { cookie } })
    expect(moved.status).toBe(503)
    const retry = await fetch(`${running.url}/get?field=count`, { headers: { cookie } })
    expect(((await retry.json()) as { value: unknown }).value).toBe(5)
    expect(retry.headers.getSetCookie()).toHaveLength(2)
    expect(await legacy.read('sid-1')).toBeFalsy()
  })
})
