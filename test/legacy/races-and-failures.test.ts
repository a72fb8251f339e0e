import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { SessionStoreError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { legacySessions } from '../../src/legacy/express-session.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { cookieFrom, LEGACY_SECRET, legacyCookieValue, legacySetup, legacyStore } from './fixture.js'

/** The Set-Cookie lines a session's commit resolves to. */
const committed = async (session: Session): Promise<string[]> => {
  const cookie = await session.commit()
  return cookie === undefined ? [] : typeof cookie === 'string' ? [cookie] : [...cookie]
}

const legacyCookie = (sid: string) => `connect.sid=${legacyCookieValue(sid, LEGACY_SECRET)}`
const data = { user: { id: 'u1' }, count: 3 }

async function failure(promise: Promise<unknown>): Promise<SessionStoreError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof SessionStoreError) return error
    throw error
  }
  throw new Error('expected a SessionStoreError')
}

describe('legacy migration under concurrency', () => {
  it('10 parallel requests with one legacy cookie each answer with a cookie whose session holds the data', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => request(legacyCookie('sid-1'), (session) => session.get('user'))),
    )
    for (const { result, lines } of answers) {
      expect(result).toEqual(data.user)
      expect(cookieFrom(lines, 'connect.sid')).toBe('')
    }
    // Whichever response the browser keeps, its cookie names a session holding every field.
    for (const { lines } of answers) {
      const check = await request(`session=${cookieFrom(lines, 'session')}`, async (session) => [
        await session.get('user'),
        await session.get('count'),
      ])
      expect(check.result).toEqual([data.user, 3])
    }
    expect(legacy.calls).toEqual({ get: 1, destroy: 1 })
  })

  it('a request arriving after the legacy session was destroyed, within the grace window, joins the migrated session', async () => {
    const { legacy, request } = legacySetup()
    await legacy.put('sid-1', data)
    const first = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(await legacy.read('sid-1')).toBeFalsy()
    const late = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(late.result).toBe(3)
    expect(cookieFrom(late.lines, 'session')).toBe(cookieFrom(first.lines, 'session'))
    expect(legacy.calls.get).toBe(1)
  })

  it('a lookup that found nothing is not remembered: a session the legacy app saves late is picked up', async () => {
    // express-session answers before its store call ends, so a browser can send the new cookie first.
    const { legacy, request } = legacySetup()
    const early = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(early.result).toBeUndefined()
    await legacy.put('sid-1', data)
    const late = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(late.result).toBe(3)
    expect(legacy.calls).toEqual({ get: 2, destroy: 1 })
  })

  it('after the grace window a repeat legacy cookie finds nothing, and a logout within it is not undone', async () => {
    const { legacy, request } = legacySetup({ graceMs: 1 })
    await legacy.put('sid-1', data)
    await request(legacyCookie('sid-1'), (session) => session.get('count'))
    await new Promise((resolve) => setTimeout(resolve, 5))
    const late = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(late.result).toBeUndefined()
    expect(legacy.calls.get).toBe(2)

    const within = legacySetup()
    await within.legacy.put('sid-2', data)
    const migrated = await within.request(legacyCookie('sid-2'), (session) => session.get('count'))
    await within.request(`session=${cookieFrom(migrated.lines, 'session')}`, (session) => session.delete())
    const stale = await within.request(legacyCookie('sid-2'), (session) => session.get('count'))
    expect(stale.result).toBeUndefined()
    expect(cookieFrom(stale.lines, 'session')).toBeUndefined()
  })
})

describe('legacy store failures fail closed and lose nothing', () => {
  it('a failing get answers 503 with a redacted cause; the legacy session stays', async () => {
    const { legacy, memory, layer } = legacySetup()
    await legacy.put('sid-secret-1', data)
    legacy.fault.get = new Error('connection lost while reading sess:sid-secret-1')
    const session = layer.open(legacyCookie('sid-secret-1'))
    const error = await failure(session.get('count'))
    expect(error.code).toBe('ERR_SESSION_STORE')
    expect(error.status).toBe(503)
    const text = `${error.message} ${String((error.cause as Error).message)} ${JSON.stringify(error.cause)}`
    expect(text).not.toContain('sid-secret-1')
    expect(memory.size).toBe(0)
    expect(await legacy.read('sid-secret-1')).toBeTruthy()

    legacy.fault = {}
    const retry = layer.open(legacyCookie('sid-secret-1'))
    expect(await retry.get('count')).toBe(3)
  })

  it('a hung get is bounded by the timeout', async () => {
    const { legacy, layer } = legacySetup({ timeout: 50 })
    await legacy.put('sid-1', data)
    legacy.fault.get = 'hang'
    const started = performance.now()
    const error = await failure(layer.open(legacyCookie('sid-1')).get('count'))
    expect(error.code).toBe('ERR_SESSION_STORE_TIMEOUT')
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('a failing destroy answers 503 and leaves the legacy session whole; the next request migrates it once', async () => {
    const { legacy, memory, layer, request } = legacySetup({ timeout: 50 })
    await legacy.put('sid-1', data)
    for (const fault of [new Error('destroy refused'), 'hang' as const]) {
      legacy.fault.destroy = fault
      const session = layer.open(legacyCookie('sid-1'))
      expect(await session.get('count')).toBe(3)
      // The legacy session goes when the copy's cookie would: the commit fails, and sends nothing.
      const error = await failure(session.commit())
      expect(error.status).toBe(503)
      expect(session.storeError).toBe(error)
      // The copy waits for the next request to settle it (no response named it).
      expect(await legacy.read('sid-1')).toMatchObject(data)
    }
    expect(memory.size).toBe(2)
    legacy.fault = {}
    const next = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(next.result).toBe(3)
    // A new copy: the earlier ones are left to their TTL, since a request that joined their migration
    // may still be running and send its cookie last (the next test shows why).
    expect(memory.size).toBe(3)
    expect(await legacy.read('sid-1')).toBeFalsy()
  })

  it('a destroy that timed out but ran loses nothing: the next request gets the copy', async () => {
    const { legacy, memory, request } = legacySetup({ timeout: 50 })
    await legacy.put('sid-1', data)
    legacy.fault.destroy = 'late'
    const failed = await request(legacyCookie('sid-1'), (session) => session.get('count')).catch((error) => error)
    expect((failed as SessionStoreError).code).toBe('ERR_SESSION_STORE_TIMEOUT')
    expect(await legacy.read('sid-1')).toBeFalsy()
    legacy.fault = {}
    const next = await request(legacyCookie('sid-1'), async (session) => [
      await session.get('user'),
      await session.get('count'),
    ])
    expect(next.result).toEqual([data.user, 3])
    expect(cookieFrom(next.lines, 'session')).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(memory.size).toBe(1)
  })

  it('after the grace window an unsettled copy is not adopted', async () => {
    const { legacy, request } = legacySetup({ timeout: 50, graceMs: 1 })
    await legacy.put('sid-1', data)
    legacy.fault.destroy = 'late'
    await request(legacyCookie('sid-1'), (session) => session.get('count')).catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 5))
    legacy.fault = {}
    const next = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(next.result).toBeUndefined()
  })

  it('a failing ruts store answers 503 and leaves the legacy session whole', async () => {
    const { legacy, store, layer } = legacySetup()
    await legacy.put('sid-1', data)
    store.failing = true
    const error = await failure(layer.open(legacyCookie('sid-1')).get('count'))
    expect(error.code).toBe('ERR_SESSION_STORE')
    expect(legacy.calls.destroy).toBe(0)
    expect(await legacy.read('sid-1')).toMatchObject(data)
  })
})

describe('legacy migration: review of a real switch-over', () => {
  it('a request that joined a migration whose destroy failed still answers with a working cookie, after a retry migrated anew', async () => {
    const { legacy, request, layer } = legacySetup()
    await legacy.put('sid-1', data)
    const a = layer.open(legacyCookie('sid-1'))
    expect(await a.get('count')).toBe(3)
    const slow = layer.open(legacyCookie('sid-1')) // a slower request of the same page joins it
    expect(await slow.get('count')).toBe(3)
    legacy.fault.destroy = new Error('destroy refused')
    expect((await failure(a.commit())).status).toBe(503)
    legacy.fault = {}
    const retry = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(retry.result).toBe(3)
    // The slow request answers last: the browser keeps its cookie, which must still name the data.
    const last = await slow.commit()
    const kept = cookieFrom(typeof last === 'string' ? [last] : [...(last ?? [])], 'session')
    const check = await request(`session=${kept}`, (session) => session.get('count'))
    expect(check.result).toBe(3)
  })

  it('a logout also ends the legacy session the browser still holds a cookie for', async () => {
    const { legacy, request } = legacySetup()
    const ruts = await request(undefined, (session) => session.update('user', { id: 'u1' }))
    // A login on an instance still running express-session gave the same browser a legacy session.
    await legacy.put('sid-1', data)
    const both = `session=${cookieFrom(ruts.lines, 'session')}; ${legacyCookie('sid-1')}`
    const logout = await request(both, (session) => session.delete())
    expect(logout.result).toBe(true)
    expect(cookieFrom(logout.lines, 'connect.sid')).toBe('')
    expect(await legacy.read('sid-1')).toBeFalsy()
    const after = await request(legacyCookie('sid-1'), (session) => session.get('count'))
    expect(after.result).toBeUndefined()
  })

  it('leaves out a legacy field the codec cannot store, with a warning, and migrates the rest', async () => {
    const warnings: string[] = []
    const { legacy, request } = legacySetup({}, { onWarning: (message) => warnings.push(message) })
    // A truncated emoji leaves a lone surrogate, which MessagePack cannot carry.
    await legacy.put('sid-1', { ...data, title: 'Party 🎉🎉'.slice(0, 7) })
    const first = await request(legacyCookie('sid-1'), async (session) => [
      await session.get('count'),
      await session.get('title'),
    ])
    expect(first.result).toEqual([3, undefined])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('"title"')
    expect(await legacy.read('sid-1')).toBeFalsy()
    // Nothing that can be stored at all: the migration fails and the legacy session stays whole.
    await legacy.put('sid-2', { title: 'x\ud800' })
    const none = await request(legacyCookie('sid-2'), (session) => session.get('title')).catch((error) => error)
    expect(none).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(await legacy.read('sid-2')).toBeTruthy()
  })

  it('leaves out a legacy field whose name the store reserves (a LayeredStore), with a warning, and migrates the rest', async () => {
    const warnings: string[] = []
    const legacy = legacyStore()
    await legacy.put('sid-1', { ...data, 'ruts:hot-only': true })
    const layer = new SessionLayer({
      store: new LayeredStore({ hot: new MemoryStore(), cold: new MemoryStore() }),
      legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET }),
      onWarning: (message) => void warnings.push(message),
    })
    const session = layer.open(legacyCookie('sid-1'))
    expect(await session.get('count')).toBe(3)
    expect(cookieFrom(await committed(session), 'session')).toMatch(/^[\w-]{22}$/)
    expect(warnings).toEqual([expect.stringContaining('"ruts:hot-only"')])
    expect(warnings[0]).toContain('reserved')
    expect(await legacy.read('sid-1')).toBeFalsy()
    // Nothing but such names: the migration fails and the legacy session stays whole, as when no
    // value can be encoded.
    await legacy.put('sid-2', { 'ruts:hot-only': true })
    const only = await layer
      .open(legacyCookie('sid-2'))
      .get('count')
      .catch((error: unknown) => error)
    expect(only).toMatchObject({ code: 'ERR_SESSION_VALUE' })
    expect(await legacy.read('sid-2')).toBeTruthy()
  })

  it("publishes a migration's new session as created, and a legacy store failure as a store-error", async () => {
    const events: Array<{ event: string; store: string; operation?: string }> = []
    const listen = (message: unknown) => void events.push(message as (typeof events)[number])
    diagnostics.subscribe('ruts:session', listen)
    try {
      const { legacy, request } = legacySetup()
      await legacy.put('sid-1', data)
      await request(legacyCookie('sid-1'), (session) => session.get('count'))
      expect(events.map(({ event }) => event)).toEqual(['created'])
      legacy.fault.get = new Error('legacy store down')
      await legacy.put('sid-2', data)
      await failure(request(legacyCookie('sid-2'), (session) => session.get('count')))
      expect(events.at(-1)).toMatchObject({ event: 'store-error', store: 'legacy', operation: 'load' })
    } finally {
      diagnostics.unsubscribe('ruts:session', listen)
    }
  })
})
