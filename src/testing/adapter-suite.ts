import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createSessionId } from '../core/ids.js'
import { SessionLayer } from '../core/layer.js'
import type { SessionStore } from '../core/store.js'
import { MemoryStore } from '../stores/memory.js'
import { type SuiteHandler, suiteHandler } from './adapter-routes.js'
import { type CountingStore, countingStore } from './counting-store.js'
import { CookieClient, maxAgeOf } from './http-client.js'
import { sleep } from './values.js'

/** A server started by a harness. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:4567`. */
  url: string
  close(): Promise<void>
  /**
   * The counting store of a server that runs its own layer out of process (another runtime). Absent
   * for in-process servers: the suite then reads the `CountingStore` it passed in the layer.
   */
  control?: StoreControl
}

/** Counts and fault injection of the store behind a server, possibly in another process. */
export interface StoreControl {
  reset(): Promise<void>
  /** Total store calls since the last reset. */
  total(): Promise<number>
  /** Store calls per operation since the last reset. */
  calls(): Promise<CountingStore['calls']>
  /** While `true`, every store operation rejects like an unreachable backend. */
  setFailing(failing: boolean): Promise<void>
}

/**
 * @param store - the in-process counting store
 * @returns a {@link StoreControl} over it
 */
export function localStoreControl(store: CountingStore): StoreControl {
  return {
    reset: async () => store.reset(),
    total: async () => store.total(),
    calls: async () => ({ ...store.calls }),
    setFailing: async (failing) => {
      store.failing = failing
    },
  }
}

/**
 * @param url - base URL of a suite server in another process that answers `storeControlResponse`
 *   (from `ruts/testing/server`) under `/__control/`
 * @returns a {@link StoreControl} that drives it over HTTP
 */
export function remoteStoreControl(url: string): StoreControl {
  const call = async (path: string) => {
    const response = await fetch(`${url}/__control/${path}`)
    return (await response.json()) as { calls: CountingStore['calls']; total: number }
  }
  return {
    reset: async () => void (await call('reset')),
    total: async () => (await call('counts')).total,
    calls: async () => (await call('counts')).calls,
    setFailing: async (failing) => void (await call(`failing?on=${failing ? 1 : 0}`)),
  }
}

/**
 * Start a real HTTP server on an ephemeral loopback port that mounts the adapter under test with
 * `layer`, routes every `GET` to `handler(session, url)`, sends its {@link SuiteResponse} natively,
 * and lets errors take the framework's own error path. A server in another process builds the same
 * layer itself (cookie `maxAge` from `layer.cookie.maxAge`, a counting MemoryStore) and returns a
 * {@link RunningServer.control}.
 */
export type StartServer = (layer: SessionLayer, handler: SuiteHandler) => Promise<RunningServer>

/** Options of {@link describeAdapterBehaviour}. */
export interface AdapterSuiteOptions {
  /** e.g. `'Express 5 on MemoryStore'`. */
  name: string
  start: StartServer
  /** The store under the layer. @default a new MemoryStore */
  store?: () => SessionStore | Promise<SessionStore>
  /** Skip with this reason (printed in the report). */
  skip?: string | undefined
}

const MAX_AGE = 3600

/**
 * The HTTP-level behaviour every adapter must show, run unchanged through each adapter and store.
 *
 * @param options - how to start the adapter under test
 *
 * @example
 * ```ts
 * describeAdapterBehaviour({ name: 'Express 5', start: async (layer, handler) => { … } })
 * ```
 */
export function describeAdapterBehaviour(options: AdapterSuiteOptions): void {
  const suite = options.skip ? describe.skip : describe
  suite(`adapter behaviour: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let store: CountingStore
    let server: RunningServer
    let control: StoreControl
    let client: CookieClient
    const request = (path: string, cookie?: string | string[]) => client.request(path, cookie)

    beforeAll(async () => {
      store = countingStore(await (options.store?.() ?? new MemoryStore()))
      const layer = new SessionLayer({ store, cookie: { maxAge: MAX_AGE } })
      server = await options.start(layer as SessionLayer, suiteHandler)
      control = server.control ?? localStoreControl(store)
    })
    afterAll(async () => {
      await server?.close()
      await store?.close?.()
    })
    beforeEach(async () => {
      client = new CookieClient(server.url)
      await control.reset()
      await control.setFailing(false)
    })

    it('creates a session on the first write and reads it back with the cookie', async () => {
      const created = await request('/update?field=count&value=1')
      expect(created.status).toBe(200)
      expect(created.setCookies.filter((line) => line.startsWith('session='))).toHaveLength(1)
      const cookie = created.sessionCookie ?? ''
      expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
      expect(maxAgeOf(cookie)).toBe(MAX_AGE)
      for (const attribute of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']) expect(cookie).toContain(attribute)
      expect(created.headers.get('cache-control')).toBe('no-store')
      expect(client.value).toBe((created.json as { id: string }).id)

      const read = await request('/get?field=count')
      expect(read.json).toEqual({ value: 1, id: client.value })
      expect(read.setCookies).toEqual([])
      expect((await control.calls()).get).toBe(1)
    })

    it('insert on an existing field returns false and changes nothing', async () => {
      await request('/update?field=name&value="ada"')
      expect((await request('/insert?field=name&value="eve"')).json).toMatchObject({ ok: false })
      expect((await request('/get?field=name')).json).toMatchObject({ value: 'ada' })
      expect((await request('/insert?field=other&value=2')).json).toMatchObject({ ok: true })
    })

    it('removing a missing field is a no-op that keeps the session', async () => {
      await request('/update?field=keep&value=1')
      const removed = await request('/remove?field=missing')
      expect(removed.json).toMatchObject({ ok: false, id: client.value })
      expect(removed.setCookies).toEqual([])
      expect((await request('/get?field=keep')).json).toMatchObject({ value: 1 })
      expect((await request('/remove?field=keep')).json).toMatchObject({ ok: true })
    })

    it('delete removes the session and clears the cookie with the same Path', async () => {
      await request('/update?field=user&value="ada"')
      const old = client.value
      const deleted = await request('/delete')
      expect(deleted.json).toEqual({ ok: true, id: null })
      expect(deleted.sessionCookie).toMatch(/^session=; Max-Age=0; /)
      expect(deleted.sessionCookie).toContain('Path=/')
      expect(deleted.headers.get('cache-control')).toBe('no-store')
      expect(client.value).toBeUndefined()
      const replay = await request('/get?field=user', `session=${old}`)
      expect(replay.json).toEqual({ value: null, id: null })
      expect(replay.setCookies).toEqual([])
    })

    it('regenerate moves the data to a fresh id and kills the old one', async () => {
      await request('/update?field=user&value="ada"')
      const old = client.value
      const regenerated = await request('/regenerate')
      const id = (regenerated.json as { id: string }).id
      expect(id).not.toBe(old)
      expect(client.value).toBe(id)
      expect((await request('/get?field=user')).json).toEqual({ value: 'ada', id })
      expect((await request('/get?field=user', `session=${old}`)).json).toEqual({ value: null, id: null })
      expect((await new CookieClient(server.url).request('/regenerate')).json).toEqual({ id: null })
    })

    it('prepareRegenerate is consumed by the next write, and applied at response time otherwise', async () => {
      await request('/update?field=user&value="guest"')
      const old = client.value
      const consumed = await request('/prepare?field=role&value="admin"')
      const { prepared, id } = consumed.json as { prepared: string; id: string }
      expect(id).toBe(prepared)
      expect(client.value).toBe(prepared)
      expect((await request('/get-all')).json).toEqual({ all: { user: 'guest', role: 'admin' }, id: prepared })
      expect((await request('/get?field=user', `session=${old}`)).json).toEqual({ value: null, id: null })

      const unconsumed = await request('/prepare')
      const next = (unconsumed.json as { prepared: string }).prepared
      expect(client.value).toBe(next)
      expect((await request('/get?field=role')).json).toEqual({ value: 'admin', id: next })
      expect((await request('/get?field=role', `session=${prepared}`)).json).toEqual({ value: null, id: null })
    })

    it('expire sets the cookie Max-Age to the new lifetime', async () => {
      await request('/update?field=a&value=1')
      const expired = await request('/expire?seconds=120')
      expect(expired.json).toMatchObject({ ok: true })
      expect(maxAgeOf(expired.sessionCookie)).toBeGreaterThanOrEqual(118)
      expect(maxAgeOf(expired.sessionCookie)).toBeLessThanOrEqual(120)
    })

    it('never adopts a forged well-formed id: reads write nothing, a write mints a fresh id', async () => {
      const forged = createSessionId()
      const read = await request('/get?field=a', `session=${forged}`)
      expect(read.json).toEqual({ value: null, id: null })
      expect(read.setCookies).toEqual([])
      expect((await control.calls()).write).toBe(0)
      const written = await request('/update?field=a&value=1', `session=${forged}`)
      const id = (written.json as { id: string }).id
      expect(id).not.toBe(forged)
      expect(written.sessionCookie).toContain(`session=${id};`)
      expect(written.body + written.setCookies.join()).not.toContain(forged)
    })

    it('treats malformed cookies as no session, without a store call or a crash', async () => {
      const hostile = [
        'session=',
        'session=short',
        `session=${'A'.repeat(21)}!`,
        `session=${'A'.repeat(23)}`,
        `session=${createSessionId()}; session=${createSessionId()}x`,
        'session',
        '=;;;==;',
        `SESSION=${createSessionId()}`,
        `session=%00%ff${'\u00e9'.repeat(10)}`,
        `${'x'.repeat(4000)}=1`,
      ]
      for (const cookie of hostile) {
        const response = await request('/get?field=a', cookie)
        expect(response.status).toBe(200)
        expect(response.setCookies).toEqual([])
      }
      // Only the two well-formed ids reached the store (and were found absent).
      expect(await control.total()).toBe(1)
    })

    it('prefers the first live session when several session cookies are sent', async () => {
      await request('/update?field=user&value="victim"')
      const real = client.value
      const planted = createSessionId()
      const both = await request('/get?field=user', [`session=${planted}`, `session=${real}`])
      expect(both.json).toEqual({ value: 'victim', id: real })
      const write = await request('/update?field=x&value=1', `session=${planted}; session=${real}`)
      expect((write.json as { id: string }).id).toBe(real)
    })

    it('expires a field on its TTL while the others stay', async () => {
      await request('/update?field=keep&value=1')
      await request('/update?field=flash&value="hi"&ttl=1')
      expect((await request('/get?field=flash')).json).toMatchObject({ value: 'hi' })
      await sleep(1_300)
      expect((await request('/get?field=flash')).json).toMatchObject({ value: null })
      expect((await request('/get?field=keep')).json).toMatchObject({ value: 1 })
    })

    it('costs nothing when the handler never touches the session', async () => {
      await request('/update?field=a&value=1')
      await control.reset()
      const untouched = await request('/untouched')
      expect(untouched.json).toBe('untouched')
      expect(untouched.setCookies).toEqual([])
      expect(untouched.headers.get('cache-control')).toBeNull()
      expect(await control.total()).toBe(0)
      expect((await request('/untouched', 'session=garbage')).setCookies).toEqual([])
      expect(await control.total()).toBe(0)
    })

    it('keeps all of 20 concurrent requests each writing a different field', async () => {
      await request('/update?field=seed&value=0')
      const fields = Array.from({ length: 20 }, (_, index) => `field${index}`)
      const responses = await Promise.all(
        fields.map((field, index) => request(`/update?field=${field}&value=${index}`)),
      )
      expect(responses.every((response) => response.status === 200)).toBe(true)
      const all = (await request('/get-all')).json as { all: Record<string, number> }
      for (const [index, field] of fields.entries()) expect(all.all[field]).toBe(index)
    })

    it('sends the cookie of a write the handler started but did not await', async () => {
      const response = await request('/fire-and-forget?field=late&value="yes"')
      expect(response.json).toBe('started')
      expect(response.sessionCookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
      expect((await request('/get?field=late')).json).toMatchObject({ value: 'yes' })
    })

    it('sends the regenerated cookie on a redirect after login', async () => {
      await request('/update?field=cart&value=3')
      const before = client.value
      const login = await request('/login?name=ada')
      expect(login.status).toBe(302)
      expect(login.sessionCookie).toBeDefined()
      expect(client.value).not.toBe(before)
      expect((await request('/get?field=user')).json).toMatchObject({ value: 'ada' })
      expect((await request('/get?field=cart')).json).toMatchObject({ value: 3 })
    })

    it("keeps the handler's own cookies next to the session cookie, each once", async () => {
      const both = await request('/own-cookies?touch=1')
      expect(both.setCookies.filter((line) => line.startsWith('session='))).toHaveLength(1)
      expect(both.setCookies).toContain('theme=dark; Path=/')
      expect(both.setCookies).toContain('lang=en; Path=/; HttpOnly')
      expect(both.setCookies).toHaveLength(3)
      const own = await request('/own-cookies')
      expect(own.setCookies).toEqual(['theme=dark; Path=/', 'lang=en; Path=/; HttpOnly'])
    })

    it('fails closed with 503 and no cookie when the store cannot answer', async () => {
      await request('/update?field=a&value=1')
      await control.setFailing(true)
      const failed = await request('/get?field=a')
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
      const creating = await request('/update?field=a&value=1', '')
      expect(creating.status).toBe(503)
      expect(creating.setCookies).toEqual([])
      await control.setFailing(false)
      expect((await request('/get?field=a')).json).toMatchObject({ value: 1 })
    })

    it('fails closed with 503 and no cookie when a store call fails after one created or moved the session', async () => {
      const created = await request('/then-unreachable?field=a&value=1', '')
      expect(created.status).toBe(503)
      expect(created.setCookies).toEqual([])
      await request('/update?field=a&value=1')
      const before = client.value
      const moved = await request('/then-unreachable?regenerate=1')
      expect(moved.status).toBe(503)
      expect(moved.setCookies).toEqual([])
      // The browser keeps the id it had, which the regenerate retired: signed out, never two ids.
      expect(client.value).toBe(before)
      expect((await request('/get?field=a')).json).toMatchObject({ value: null })
    })

    it("fails closed without the handler's own cookies when the commit's prepared move fails", async () => {
      await request('/update?field=a&value=1')
      await control.setFailing(true)
      const failed = await request('/prepare-own-cookies')
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
      await control.setFailing(false)
      expect((await request('/get?field=a')).json).toMatchObject({ value: 1 })
    })

    it('sends no cookie with a 5xx the handler answers itself after catching a store failure', async () => {
      for (const status of [500, 502]) {
        const created = await request(`/caught-unreachable?field=a&value=1&status=${status}`, '')
        // SvelteKit answers a 500 after a store failure as 503 (its thrown errors all become 500).
        expect(status === 500 ? [500, 503] : [status]).toContain(created.status)
        expect(created.json).toBe('caught')
        expect(created.setCookies).toEqual([])
      }
    })
  })
}
