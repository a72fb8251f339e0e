import { afterAll, describe, expect, it } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import type { SessionStore } from '../../src/core/store.js'
import type { SessionInfo } from '../../src/core/subject-values.js'
import type { CookieClient } from '../../src/testing/http-client.js'
import { type SubjectApp, startSubjectApp, subjectStores } from './app.js'

type Listed = Omit<SessionInfo, 'createdAt' | 'lastActiveAt' | 'expiresAt'> & { lastActiveAt: string }

async function devices(client: CookieClient, path = '/devices'): Promise<Listed[]> {
  return (await client.request(path)).json as Listed[]
}

async function login(client: CookieClient, user: string, device: string) {
  const response = await client.request(`/login?user=${user}&device=${encodeURIComponent(device)}`)
  expect(response.status).toBe(200)
  return response
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const { name, create, skip } of subjectStores) {
  describe.skipIf(skip !== undefined)(`subjects through Express on ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const apps: SubjectApp[] = []
    const stores: SessionStore[] = []
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()))
      await Promise.all(stores.map((store) => store.close?.()))
    })
    const start = async (options: Parameters<typeof startSubjectApp>[1] = {}) => {
      const store = await create()
      stores.push(store)
      const app = await startSubjectApp(store, options)
      apps.push(app)
      return app
    }
    const user = () => `u${Math.random().toString(36).slice(2)}`

    it('moves the session to a new id at login, keeping its data; the old cookie is worthless (fixation)', async () => {
      const app = await start()
      const browser = app.client()
      expect((await browser.request('/visit')).json).toEqual({ visits: 1 })
      const planted = browser.value as string
      const response = await login(browser, user(), 'Firefox')
      expect(response.sessionCookie).toBeDefined()
      expect(browser.value).not.toBe(planted)
      expect((await browser.request('/visit')).json).toEqual({ visits: 2 })
      const attacker = app.client()
      attacker.value = planted
      expect((await attacker.request('/whoami')).json).toEqual({ subject: null, visits: 0 })
    })

    it('creates a bound session at login when the request has none', async () => {
      const app = await start()
      const browser = app.client()
      const id = user()
      const response = await login(browser, id, 'Safari')
      expect(response.json).toEqual({ subject: `user:${id}` })
      expect(response.sessionCookie).toMatch(/^session=/)
      expect((await browser.request('/whoami')).json).toEqual({ subject: `user:${id}`, visits: 0 })
    })

    it('keeps the id when the same subject logs in again, replacing only the meta', async () => {
      const app = await start()
      const browser = app.client()
      const id = user()
      await login(browser, id, 'old name')
      const cookie = browser.value
      const again = await login(browser, id, 'new name')
      expect(again.sessionCookie === undefined || browser.value === cookie).toBe(true)
      expect(browser.value).toBe(cookie)
      expect((await devices(browser)).map((info) => info.meta)).toEqual([{ device: 'new name' }])
    })

    it('lists the sessions of the subject, newest activity first, this one marked current', async () => {
      const app = await start()
      const [laptop, phone, stranger] = [app.client(), app.client(), app.client()]
      const id = user()
      await login(laptop, id, 'laptop')
      await sleep(20)
      await login(phone, id, 'phone')
      await login(stranger, user(), 'elsewhere')
      const seen = await devices(laptop)
      expect(seen.map((info) => [info.meta.device, info.current])).toEqual([
        ['phone', false],
        ['laptop', true],
      ])
      for (const info of seen) {
        expect(info.subject).toBe(`user:${id}`)
        expect(Number.isNaN(Date.parse(info.lastActiveAt))).toBe(false)
      }
      // layer.sessions.list with { current } agrees, and activity reorders it.
      await sleep(20)
      await laptop.request('/visit')
      const listed = await devices(laptop, '/list')
      expect(listed.map((info) => [info.meta.device, info.current])).toEqual([
        ['laptop', true],
        ['phone', false],
      ])
      expect(listed.map((info) => info.handle)).toEqual([seen[1]?.handle, seen[0]?.handle])
    })

    it('revokes one session by its handle: that browser is logged out on its next request', async () => {
      const app = await start()
      const [laptop, phone] = [app.client(), app.client()]
      const id = user()
      await login(laptop, id, 'laptop')
      await login(phone, id, 'phone')
      const other = (await devices(laptop)).find((info) => !info.current) as Listed
      expect((await laptop.request(`/revoke?handle=${other.handle}`)).json).toEqual({ revoked: true })
      expect((await phone.request('/whoami')).json).toEqual({ subject: null, visits: 0 })
      expect((await devices(laptop)).map((info) => info.meta.device)).toEqual(['laptop'])
      // Stale, malformed and foreign handles are a clean false.
      expect((await laptop.request(`/revoke?handle=${other.handle}`)).json).toEqual({ revoked: false })
      expect((await laptop.request('/revoke?handle=nope')).json).toEqual({ revoked: false })
      expect((await laptop.request(`/revoke?handle=${'A'.repeat(43)}`)).json).toEqual({ revoked: false })
      const stranger = app.client()
      await login(stranger, user(), 'stranger')
      const foreign = (await devices(stranger))[0] as Listed
      expect((await laptop.request(`/revoke?handle=${foreign.handle}`)).json).toEqual({ revoked: false })
      expect((await stranger.request('/whoami')).json).toMatchObject({ subject: expect.any(String) })
    })

    it('signs out every other session with revokeOthers, and all of them with revokeAll', async () => {
      const app = await start()
      const browsers = [app.client(), app.client(), app.client()] as const
      const id = user()
      for (const [index, browser] of browsers.entries()) await login(browser, id, `device ${index}`)
      expect((await browsers[0].request('/revoke-others')).json).toEqual({ ended: 2 })
      for (const browser of browsers.slice(1)) {
        expect((await browser.request('/whoami')).json).toEqual({ subject: null, visits: 0 })
      }
      expect((await browsers[0].request('/whoami')).json).toEqual({ subject: `user:${id}`, visits: 0 })
      expect((await browsers[0].request('/revoke-others')).json).toEqual({ ended: 0 })
      await login(browsers[1], id, 'again')
      expect((await browsers[0].request('/revoke-all')).json).toEqual({ ended: 2 })
      for (const browser of browsers) expect((await browser.request('/whoami')).json).toMatchObject({ subject: null })
      // Not logged in: nothing to revoke.
      expect((await app.client().request('/revoke-others')).json).toEqual({ ended: 0 })
    })

    it('ends the least recently active session beyond maxSessionsPerSubject at the next login', async () => {
      const app = await start({ maxSessionsPerSubject: 2 })
      const [first, second, third] = [app.client(), app.client(), app.client()]
      const id = user()
      await login(first, id, 'first')
      await sleep(20)
      await login(second, id, 'second')
      await sleep(20)
      await first.request('/visit') // now the second is the least recently active
      await sleep(20)
      await login(third, id, 'third')
      expect((await second.request('/whoami')).json).toEqual({ subject: null, visits: 0 })
      expect((await devices(third)).map((info) => info.meta.device)).toEqual(['third', 'first'])
    })

    it('gives handles that are neither the id nor the store key, and never work as a cookie', async () => {
      const app = await start()
      const browser = app.client()
      await login(browser, user(), 'laptop')
      const id = browser.value as string
      const [info] = await devices(browser)
      const handle = (info as Listed).handle
      expect(handle).not.toBe(id)
      expect(handle).not.toBe(sessionKeyOf(id))
      expect(handle).not.toContain(id)
      const thief = app.client()
      thief.value = handle
      expect((await thief.request('/whoami')).json).toEqual({ subject: null, visits: 0 })
      expect(thief.value).toBe(handle) // nothing was issued for it either
    })

    it('forgets the subject of a deleted session', async () => {
      const app = await start()
      const browser = app.client()
      const id = user()
      await login(browser, id, 'laptop')
      const other = app.client()
      await login(other, id, 'phone')
      expect((await browser.request('/logout')).json).toEqual({ deleted: true })
      expect((await devices(other)).map((info) => info.meta.device)).toEqual(['phone'])
    })
  })
}
