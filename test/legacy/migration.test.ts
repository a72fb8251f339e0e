import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { LegacySessionSource } from '../../src/core/legacy.js'
import { legacySessions } from '../../src/legacy/express-session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { cookieFrom, LEGACY_SECRET, legacyCookieValue, legacySetup, legacyStore } from './fixture.js'

const legacyCookie = (sid: string, secret = LEGACY_SECRET) => `connect.sid=${legacyCookieValue(sid, secret)}`
const data = { user: { id: 'u1', roles: ['admin'] }, count: 3, cart: [1, 2], __proto__x: 'kept' }

describe('legacy sessions (express-session) on a layer', () => {
  it('without the option, a valid legacy cookie costs no legacy lookup and no store call', async () => {
    const legacy = legacyStore()
    await legacy.put('sid-1', data)
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer({ store })
    const session = layer.open(legacyCookie('sid-1'))
    expect(await session.get('user')).toBeUndefined()
    await session.update('count', 1)
    expect(await session.commit()).toMatch(/^session=/)
    expect(legacy.calls).toEqual({ get: 0, destroy: 0 })
    expect(store.calls.get + store.calls.getAll).toBe(0)
  })

  it('with the option, an untouched session costs nothing, legacy cookie or not', async () => {
    const { legacy, store, request } = legacySetup()
    await legacy.put('sid-1', data)
    const { lines } = await request(legacyCookie('sid-1'), () => undefined)
    expect(lines).toEqual([])
    expect(legacy.calls).toEqual({ get: 0, destroy: 0 })
    expect(store.total()).toBe(0)
  })

  it('moves every top-level property into its own field, drops cookie, and a read-only request sees it', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const first = await request(legacyCookie('sid-1'), (session) => session.get('user'))
    expect(first.result).toEqual(data.user)
    const ruts = cookieFrom(first.lines, 'session')
    expect(ruts).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(first.lines).toContain('connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly')
    expect(await legacy.read('sid-1')).toBeFalsy()

    const next = await request(`session=${ruts}`, async (session) => Object.fromEntries((await session.getAll()) ?? []))
    expect(next.result).toEqual({ user: data.user, count: 3, cart: [1, 2], __proto__x: 'kept' })
    expect(next.lines).toEqual([])
  })

  it('carries __proto__ and constructor over as ordinary fields, without touching a prototype', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}'))
    const { result } = await request(legacyCookie('sid-1'), async (session) => [...((await session.getAll()) ?? [])])
    expect(result).toEqual([
      ['__proto__', { polluted: true }],
      ['constructor', 1],
    ])
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
  })

  it('carries what map() returns instead', async () => {
    const { legacy, request } = legacySetup({
      map: (stored) => ({ userId: (stored.user as { id: string }).id, visits: stored.count }),
    })
    await legacy.put('sid-1', data)
    const { result } = await request(legacyCookie('sid-1'), async (session) => [...((await session.getAll()) ?? [])])
    expect(Object.fromEntries(result as [string, unknown][])).toEqual({ userId: 'u1', visits: 3 })
  })

  it('refuses a map() result that is not a plain object, leaving the legacy session whole', async () => {
    for (const wrong of [new Map([['user', 'u1']]), 'text', ['u1'], null]) {
      const { legacy, request } = legacySetup({ map: () => wrong as never })
      await legacy.put('sid-1', data)
      const failed = await request(legacyCookie('sid-1'), (session) => session.get('user')).catch((error) => error)
      expect(failed).toMatchObject({ code: 'ERR_SESSION_VALUE' })
      expect(await legacy.read('sid-1')).toBeTruthy()
    }
  })

  it('a write as the first call lands in the migrated session', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const first = await request(legacyCookie('sid-1'), (session) => session.update('count', 4))
    const ruts = cookieFrom(first.lines, 'session')
    const next = await request(`session=${ruts}`, async (session) => [
      await session.get('count'),
      await session.get('user'),
    ])
    expect(next.result).toEqual([4, data.user])
  })

  it('verifies every secret of a rotation list, and only express-session signatures', async () => {
    const { legacy, request } = legacySetup({ secret: ['new secret', LEGACY_SECRET] })
    await legacy.put('sid-1', data)
    await legacy.put('sid-2', data)
    const old = await request(legacyCookie('sid-1', LEGACY_SECRET), (session) => session.get('count'))
    expect(old.result).toBe(3)
    const current = await request(legacyCookie('sid-2', 'new secret'), (session) => session.get('count'))
    expect(current.result).toBe(3)
  })

  it('ignores forged, unsigned, wrongly signed and tampered cookies without a legacy store call', async () => {
    const { legacy, store, request } = legacySetup()
    await legacy.put('sid-1', data)
    const good = legacyCookieValue('sid-1', LEGACY_SECRET)
    const forged = [
      'connect.sid=sid-1',
      'connect.sid=s%3Asid-1',
      `connect.sid=${legacyCookieValue('sid-1', 'another secret')}`,
      `connect.sid=${good.replace('sid-1', 'sid-2')}`,
      `connect.sid=${good}x`,
      `connect.sid=${good.slice(0, -1)}`,
      `connect.sid=${good.replace('s%3A', '')}`,
      `connect.sid=%E0%A4%A`,
      `Connect.sid=${good}`,
    ]
    for (const cookie of forged) {
      const { result, lines } = await request(cookie, (session) => session.get('count'))
      expect({ cookie, result, lines }).toEqual({ cookie, result: undefined, lines: [] })
    }
    expect(legacy.calls).toEqual({ get: 0, destroy: 0 })
    expect(store.calls.write).toBe(0)
    expect(await legacy.read('sid-1')).toBeTruthy()
  })

  it('verifies at most three signed-looking values per request, however many a header holds', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const good = `connect.sid=${legacyCookieValue('sid-1', LEGACY_SECRET)}`
    const forged = (n: number) =>
      Array.from({ length: n }, (_, i) => `connect.sid=${legacyCookieValue(`sid-${i + 2}`, 'forged')}`)
    // Values without the signed shape cost no HMAC and do not count.
    const unsigned = Array.from({ length: 50 }, (_, i) => `connect.sid=plain-${i}`)
    const found = await request([...unsigned, ...forged(2), good].join('; '), (session) => session.get('count'))
    expect(found.result).toBe(3)
    const hidden = await request([...forged(3), good].join('; '), (session) => session.get('count'))
    expect(hidden.result).toBeUndefined()
    expect(legacy.calls.get).toBe(1)
  })

  it('a live ruts session wins: the legacy cookie is not looked at', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const own = await request(undefined, (session) => session.update('count', 10))
    const ruts = cookieFrom(own.lines, 'session')
    const both = await request(`session=${ruts}; ${legacyCookie('sid-1')}`, (session) => session.get('count'))
    expect(both.result).toBe(10)
    expect(legacy.calls.get).toBe(0)
  })

  it('a legacy session the store no longer holds (or whose cookie expired) gives no session and removes the cookie', async () => {
    const { legacy, store, request } = legacySetup()
    await legacy.put('expired', data, 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    for (const sid of ['gone', 'expired']) {
      const { result, lines } = await request(legacyCookie(sid), (session) => session.get('count'))
      expect(result).toBeUndefined()
      expect(lines).toEqual(['connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly'])
    }
    expect(store.calls.write).toBe(0)
  })

  it('a verified cookie whose session is gone neither hides a live one sent after it nor gets it removed', async () => {
    // A stale cookie, or one a sibling subdomain planted, sent ahead of the user's own.
    const { legacy, request } = legacySetup()
    await legacy.put('sid-live', data)
    const both = `${legacyCookie('sid-gone')}; ${legacyCookie('sid-live')}`
    const { result, lines } = await request(both, (session) => session.get('count'))
    expect(result).toBe(3)
    expect(cookieFrom(lines, 'session')).toMatch(/^[\w-]{22}$/)
    expect(legacy.calls.get).toBe(2)
    expect(await legacy.read('sid-live')).toBeFalsy()
  })

  it('tries at most three legacy ids per request, whatever a custom source returns', async () => {
    const loads: string[] = []
    const source: LegacySessionSource = {
      cookieName: 'old',
      removalCookie: 'old=; Max-Age=0; Path=/',
      find: () => 'a',
      findAll: () => ['a', 'b', 'c', 'd', 'e'],
      load: async (legacyId) => {
        loads.push(legacyId)
        return undefined
      },
      destroy: async () => undefined,
    }
    const layer = new SessionLayer({ store: new MemoryStore(), legacy: source })
    expect(await layer.open('old=x').get('count')).toBeUndefined()
    expect(loads).toEqual(['a', 'b', 'c'])
  })

  it('a migration the ruts store fails records the store error, so the 5xx goes out without a cookie', async () => {
    const { legacy, store, layer } = legacySetup()
    await legacy.put('sid-1', data)
    store.failing = true
    const session = layer.open(legacyCookie('sid-1'))
    const failed = await session.get('count').catch((error: unknown) => error)
    expect(failed).toMatchObject({ code: 'ERR_SESSION_STORE' })
    expect(session.storeError).toBe(failed)
    store.failing = false
    expect(await legacy.read('sid-1')).toBeTruthy()
  })

  it('delete() on an unmigrated legacy session ends it for good', async () => {
    const { legacy, memory, request } = legacySetup()
    await legacy.put('sid-1', data)
    const logout = await request(legacyCookie('sid-1'), (session) => session.delete())
    expect(logout.result).toBe(true)
    expect(cookieFrom(logout.lines, 'connect.sid')).toBe('')
    expect(cookieFrom(logout.lines, 'session')).toBeUndefined()
    expect(await legacy.read('sid-1')).toBeFalsy()
    const again = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(again.result).toBeUndefined()
    // The copy made on the way was deleted: nothing is left in the ruts store.
    expect(memory.size).toBe(0)
  })

  it('a logout after a read migrated ends the legacy session too, whatever the response sends', async () => {
    const { legacy, memory, layer } = legacySetup()
    await legacy.put('sid-1', data)
    const session = layer.open(legacyCookie('sid-1'))
    expect(await session.get('count')).toBe(3)
    // No commit: the response may never send a cookie (headers gone, a framework without the hook).
    expect(await session.delete()).toBe(true)
    expect(await legacy.read('sid-1')).toBeFalsy()
    expect(memory.size).toBe(0)
  })

  it('a response that sends no cookie leaves the legacy session whole (a sealed read, headers already gone)', async () => {
    const { legacy, layer } = legacySetup()
    await legacy.put('sid-1', data)
    // What an adapter does when the headers left before the handler's first call: seal, never commit.
    const session = layer.open(legacyCookie('sid-1'))
    session.seal()
    expect(await session.get('count')).toBe(3)
    expect(legacy.calls.destroy).toBe(0)
    expect(await legacy.read('sid-1')).toMatchObject(data)
  })

  it('regenerate() (a login) after migration moves the migrated data to a fresh id', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const login = await request(legacyCookie('sid-1'), (session) => session.regenerate())
    const ruts = cookieFrom(login.lines, 'session')
    expect(typeof login.result).toBe('string')
    const next = await request(`session=${ruts}`, (session) => session.get('user'))
    expect(next.result).toEqual(data.user)
  })

  it('uses the configured path and domain for the removal cookie', async () => {
    const { legacy, request } = legacySetup({ cookie: { path: '/app', domain: 'example.com' } })
    await legacy.put('sid-1', data)
    const { lines } = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(lines).toContain(
      'connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app; Domain=example.com; HttpOnly',
    )
  })

  it("removes a prefixed legacy cookie with Secure, whatever the prefix's case", async () => {
    for (const name of ['__Host-sid', '__host-sid', '__SECURE-sid']) {
      const { legacy, request } = legacySetup({ name })
      await legacy.put('sid-1', data)
      const { lines } = await request(`${name}=${legacyCookieValue('sid-1', LEGACY_SECRET)}`, (session) =>
        session.get('count'),
      )
      expect(lines.find((line) => line.startsWith(`${name}=;`))).toMatch(/; Secure$/)
    }
  })

  it('under the same cookie name, sends the new cookie without a removal that would undo it', async () => {
    const { legacy, request } = legacySetup({}, { cookie: { name: 'connect.sid', maxAge: 3600 } })
    await legacy.put('sid-1', data)
    const { lines, result } = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(result).toBe(3)
    expect(lines).toHaveLength(1)
    expect(cookieFrom(lines, 'connect.sid')).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('refuses an unusable configuration at construction', () => {
    const store = legacyStore()
    const codeOf = (build: () => unknown) => {
      try {
        build()
      } catch (error) {
        return (error as { code?: string }).code
      }
      return 'built'
    }
    const bad: Array<() => unknown> = [
      () => legacySessions({ store: {} as never, secret: LEGACY_SECRET }),
      () => legacySessions({ store, secret: '' }),
      () => legacySessions({ store, secret: [] }),
      () => legacySessions({ store, secret: LEGACY_SECRET, name: 'bad name' }),
      () => legacySessions({ store, secret: LEGACY_SECRET, cookie: { path: 'app' } }),
      () => legacySessions({ store, secret: LEGACY_SECRET, cookie: { domain: 'a;b' } }),
      () => legacySessions({ store, secret: LEGACY_SECRET, timeout: 0 }),
      () => legacySessions({ store, secret: LEGACY_SECRET, graceMs: -1 }),
      () => new SessionLayer({ store: new MemoryStore(), legacy: {} as never }),
    ]
    for (const build of bad) expect(codeOf(build)).toBe('ERR_SESSION_CONFIG')
    expect(codeOf(() => legacySessions({ store, secret: ['k', 'keyboard cat'] }))).toBe('built')
  })
})

describe('what a migrated session is held to: the old lifetime and the layer limits', () => {
  const maxAgeOf = (lines: readonly string[]) =>
    Number(/Max-Age=(\d+)/.exec(lines.find((line) => line.startsWith('session=')) ?? '')?.[1])
  const DAY = 86_400

  it("keeps a legacy cookie's longer lifetime ('remember me'), for the session and its fields", async () => {
    const { legacy, memory, request } = legacySetup()
    await legacy.put('remembered', data, 30 * DAY * 1000)
    const first = await request(legacyCookie('remembered'), (session) => session.get('count'))
    expect(first.result).toBe(3)
    // Within the second the lifetime was read: 30 days, not the layer's hour.
    expect(maxAgeOf(first.lines)).toBeGreaterThanOrEqual(30 * DAY - 2)
    expect(maxAgeOf(first.lines)).toBeLessThanOrEqual(30 * DAY)
    const key = sessionKeyOf(cookieFrom(first.lines, 'session') as string)
    const field = await memory.get(key, 'user')
    expect(field.live && field.fieldTtl).toBeGreaterThan((30 * DAY - 2) * 1000)
  })

  it("starts the layer's lifetime when the legacy cookie ends sooner or has no expiry, and caps a longer one at absoluteTimeout", async () => {
    const { legacy, request } = legacySetup()
    const hour = (lines: readonly string[]) => expect(maxAgeOf(lines)).toBeOneOf([3599, 3600])
    await legacy.put('short', data, 60_000)
    hour((await request(legacyCookie('short'), (session) => session.get('count'))).lines)
    // express-session's default cookie: no expiry (a browser-session cookie).
    const cookie = { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }
    await new Promise((resolve) => legacy.inner.set('browser', { ...data, cookie }, resolve))
    const browser = await request(legacyCookie('browser'), (session) => session.get('count'))
    expect(browser.result).toBe(3)
    hour(browser.lines)
    const capped = legacySetup({}, { absoluteTimeout: 7 * DAY })
    await capped.legacy.put('remembered', data, 30 * DAY * 1000)
    const lines = (await capped.request(legacyCookie('remembered'), (session) => session.get('count'))).lines
    expect(maxAgeOf(lines)).toBeLessThanOrEqual(7 * DAY)
    expect(maxAgeOf(lines)).toBeGreaterThan(7 * DAY - 5)
  })

  it('leaves out values above maxValueBytes and the fields past maxFields, with a warning each, and migrates the rest', async () => {
    const warnings: string[] = []
    const { legacy, request } = legacySetup(
      {},
      { maxValueBytes: 1024, maxFields: 3, onWarning: (m) => warnings.push(m) },
    )
    await legacy.put('sid-1', { big: 'x'.repeat(2000), a: 1, b: 2, c: 3, d: 4 })
    const first = await request(legacyCookie('sid-1'), async (session) => {
      const fields = Object.fromEntries((await session.getAll()) ?? [])
      // The session is at the limit, not beyond it: a field it holds stays writable.
      await session.update('c', 30)
      return fields
    })
    expect(first.result).toEqual({ a: 1, b: 2, c: 3 })
    // Names beyond the limit are likely chosen by clients: counted, not named.
    expect(warnings).toEqual([
      expect.stringMatching(/"big" .*maxValueBytes \(1024\)/),
      expect.stringMatching(/maxFields \(3\) fields: the 1 after the first are left out/),
    ])
    expect(warnings[1]).not.toContain('"d"')
    expect(warnings.join()).not.toContain('xxxx')
  })

  it('fails the migration and keeps the legacy session whole when every value is above maxValueBytes', async () => {
    const { legacy, store, request } = legacySetup({}, { maxValueBytes: 1024, onWarning: () => undefined })
    await legacy.put('sid-1', { passport: { user: 'x'.repeat(2000) } })
    const failed = await request(legacyCookie('sid-1'), (session) => session.get('passport')).catch((error) => error)
    expect(failed).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(failed.message).toContain('maxValueBytes (1024)')
    expect(await legacy.read('sid-1')).toBeTruthy()
    expect(store.calls.write).toBe(0)
  })

  it('under idleTimeout keeps the idle policy for the session and the longer lifetime for its fields', async () => {
    const { legacy, memory, request } = legacySetup({}, { idleTimeout: 900 })
    await legacy.put('remembered', data, 30 * DAY * 1000)
    const first = await request(legacyCookie('remembered'), (session) => session.get('count'))
    expect(first.result).toBe(3)
    expect(maxAgeOf(first.lines)).toBeLessThanOrEqual(900)
    const field = await memory.get(sessionKeyOf(cookieFrom(first.lines, 'session') as string), 'user')
    expect(field.live && field.fieldTtl).toBeGreaterThan((30 * DAY - 2) * 1000)
  })

  it('with rolling, trusts the store over a stale stored expiry and gives the full maxAge from now', async () => {
    // connect-redis' touch moves only the key's TTL: a rolling session changed 20 days ago carries an
    // expiry 10 days ahead (or, changed 31 days ago, one in the past) while its browser cookie is fresh.
    const month = 30 * DAY * 1000
    const stored = (expires: number) => ({
      ...data,
      cookie: { originalMaxAge: month, expires: new Date(expires).toISOString() },
    })
    const sessions = new Map([
      ['changed-20-days-ago', stored(Date.now() + 10 * DAY * 1000)],
      ['changed-31-days-ago', stored(Date.now() - DAY * 1000)],
    ])
    const legacy = {
      get: (sid: string, callback: (error: unknown, session?: object | null) => void) =>
        callback(null, sessions.get(sid) ?? null),
      destroy: (sid: string, callback?: (error?: unknown) => void) => {
        sessions.delete(sid)
        callback?.()
      },
    }
    const layerOf = (rolling: boolean) =>
      new SessionLayer({
        store: new MemoryStore(),
        cookie: { maxAge: 3600 },
        legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET, rolling }),
      })
    const maxAgeFor = async (layer: SessionLayer, sid: string) => {
      const session = layer.open(legacyCookie(sid))
      await session.get('count')
      const committed = await session.commit()
      return maxAgeOf(committed === undefined ? [] : typeof committed === 'string' ? [committed] : [...committed])
    }
    const plain = layerOf(false)
    expect(await maxAgeFor(plain, 'changed-20-days-ago')).toBeLessThanOrEqual(10 * DAY)
    expect(Number.isNaN(await maxAgeFor(plain, 'changed-31-days-ago'))).toBe(true)
    sessions.set('changed-20-days-ago', stored(Date.now() + 10 * DAY * 1000))
    sessions.set('changed-31-days-ago', stored(Date.now() - DAY * 1000))
    const rolling = layerOf(true)
    for (const sid of ['changed-20-days-ago', 'changed-31-days-ago']) {
      expect(await maxAgeFor(rolling, sid)).toBeGreaterThan(30 * DAY - 5)
    }
    expect(() => legacySessions({ store: legacy, secret: LEGACY_SECRET, rolling: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
    )
  })

  it("takes a custom source's expiry only when it is a finite time, and one that has passed as no session", async () => {
    const sessionFor = (expiresAt: unknown) => ({ fields: { count: 3 }, expiresAt: expiresAt as number })
    const source = (expiresAt: unknown): LegacySessionSource => ({
      cookieName: 'old',
      removalCookie: 'old=; Max-Age=0',
      find: (header) => (typeof header === 'string' && header.startsWith('old=') ? header.slice(4) : undefined),
      load: async () => ({ count: 3 }),
      loadSession: async () => sessionFor(expiresAt),
      destroy: async () => undefined,
    })
    const countFor = async (expiresAt: unknown) => {
      const layer = new SessionLayer({ store: new MemoryStore(), cookie: { maxAge: 3600 }, legacy: source(expiresAt) })
      return layer.open('old=abc').get('count')
    }
    expect(await countFor(Date.now() - 1000)).toBeUndefined()
    for (const odd of [Number.NaN, 10n, '2099-01-01', undefined]) expect(await countFor(odd)).toBe(3)
  })

  it('warns once when the legacy store holds none of the sessions the first 20 signed cookies name, and reports each as expired', async () => {
    const warnings: string[] = []
    const events: Array<{ event: string; store: string }> = []
    const listen = (message: unknown) => void events.push(message as (typeof events)[number])
    diagnostics.subscribe('ruts:session', listen)
    try {
      const { request } = legacySetup({}, { onWarning: (m) => warnings.push(m) })
      for (let n = 0; n < 19; n++) await request(legacyCookie(`gone-${n}`), (session) => session.get('count'))
      expect(warnings).toEqual([])
      for (let n = 19; n < 25; n++) await request(legacyCookie(`gone-${n}`), (session) => session.get('count'))
      expect(warnings).toEqual([expect.stringContaining('legacySessions({ store }) is not the store it used')])
      expect(events.filter(({ event, store }) => event === 'expired' && store === 'legacy')).toHaveLength(25)
      // One cookie sent again and again (a client replaying it) counts once.
      const replayed: string[] = []
      const again = legacySetup({}, { onWarning: (m) => replayed.push(m) })
      for (let n = 0; n < 25; n++) await again.request(legacyCookie('gone-0'), (session) => session.get('count'))
      expect(replayed).toEqual([])
      // Once a legacy session was found, misses are ordinary (sessions expire): no warning.
      const quiet: string[] = []
      const found = legacySetup({}, { onWarning: (m) => quiet.push(m) })
      await found.legacy.put('live', data)
      await found.request(legacyCookie('live'), (session) => session.get('count'))
      for (let n = 0; n < 25; n++) await found.request(legacyCookie(`gone-${n}`), (session) => session.get('count'))
      expect(quiet).toEqual([])
    } finally {
      diagnostics.unsubscribe('ruts:session', listen)
    }
  })
})
