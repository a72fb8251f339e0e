import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/testing/adapter-suite.js'
import { CookieClient, maxAgeOf } from '../../src/testing/http-client.js'
import { cli, missingRedisBinaries, type RedisProcess, startRedis } from '../redis/server.js'
import { type AppCommand, startApp } from './app-server.js'

// examples/nuxt, built by `npm run test:frameworks` (`nuxt build`) and served by Nitro's node server.
const nuxt = (env: Record<string, string> = {}): AppCommand => ({
  command: [process.execPath, '.output/server/index.mjs'],
  cwd: fileURLToPath(new URL('../../examples/nuxt/', import.meta.url)),
  env: (port) => ({ HOST: '127.0.0.1', PORT: String(port), ...env }),
  ready: '/api/me',
})

/** The page's `<p id="who">`, as the server render wrote it. */
const who = (html: string) => /<p id="who">([^<]*)<\/p>/.exec(html)?.[1]

/** POST the page's form the way a browser without JavaScript does. */
const post = (server: RunningServer, path: string, form: Record<string, string>, cookie?: string) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: cookie === undefined ? {} : { cookie: `session=${cookie}` },
    body: new URLSearchParams(form),
  })

/** The session cookie a response sets. */
const sessionCookie = (response: Response) =>
  response.headers.getSetCookie().find((line) => line.startsWith('session=')) ?? ''
const cookieValue = (cookie: string) => cookie.slice('session='.length, cookie.indexOf(';'))

/** Sign in as `name` through the login form; the new cookie value. */
async function login(server: RunningServer, name: string, cookie?: string): Promise<string> {
  const response = await post(server, '/api/login', { name }, cookie)
  expect(response.status).toBe(303)
  return cookieValue(sessionCookie(response))
}

describe('the Nuxt example (nuxt build, Nitro node server)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startApp(nuxt())
  })
  afterAll(() => server?.close())

  it('counts across requests that send the cookie', async () => {
    const client = new CookieClient(server.url)
    expect((await client.request('/api/count')).json).toEqual({ count: 1 })
    expect(client.value).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect((await client.request('/api/count')).json).toEqual({ count: 2 })
    expect((await new CookieClient(server.url).request('/api/count')).json).toEqual({ count: 1 })
  })

  it('regenerates on login: a new id is signed in, the old one no longer holds anything', async () => {
    const client = new CookieClient(server.url)
    await client.request('/api/count')
    const before = client.value
    const response = await post(server, '/api/login', { name: 'Ada' }, before)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    expect(response.headers.get('cache-control')).toBe('no-store')
    const cookie = sessionCookie(response)
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/i)
    expect(maxAgeOf(cookie)).toBeGreaterThan(3590)
    const after = cookieValue(cookie)
    expect(after).not.toBe(before)
    expect((await client.request('/api/me', `session=${after}`)).json).toEqual({ user: 'Ada', count: 1, failures: 0 })
    expect((await client.request('/api/me', `session=${before}`)).json).toEqual({ user: null, count: 0, failures: 0 })
  })

  it("renders the signed-in user in the page's server-side useFetch of a session route", async () => {
    const cookie = await login(server, 'Grace')
    const signedIn = await fetch(server.url, { headers: { cookie: `session=${cookie}` } })
    expect(signedIn.status).toBe(200)
    expect(who(await signedIn.text())).toBe('Logged in as Grace')
    const anonymous = await (await fetch(server.url)).text()
    expect(who(anonymous)).toBe('Not logged in.')
    expect(anonymous).not.toContain('Grace')
  })

  it('keeps the cookie of a route that writes and throws createError (422), marked no-store', async () => {
    const response = await post(server, '/api/login', { name: '' })
    expect(response.status).toBe(422)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const cookie = sessionCookie(response)
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    const client = new CookieClient(server.url)
    expect((await client.request('/api/me', `session=${cookieValue(cookie)}`)).json).toMatchObject({ failures: 1 })
  })

  it('clears the cookie on logout (Max-Age=0), and the session is gone', async () => {
    const cookie = await login(server, 'Ada')
    const response = await post(server, '/api/logout', {}, cookie)
    expect(response.status).toBe(303)
    expect(sessionCookie(response)).toMatch(/^session=; Max-Age=0; /)
    const page = await (await fetch(server.url, { headers: { cookie: `session=${cookie}` } })).text()
    expect(who(page)).toBe('Not logged in.')
  })

  it('reads a tampered cookie as anonymous, in an API route and in the page', async () => {
    const cookie = await login(server, 'Ada')
    const tampered = `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`
    const client = new CookieClient(server.url)
    expect((await client.request('/api/me', `session=${tampered}`)).json).toEqual({ user: null, count: 0, failures: 0 })
    const page = await (await fetch(server.url, { headers: { cookie: `session=${tampered}` } })).text()
    expect(who(page)).toBe('Not logged in.')
    expect(page).not.toContain('Ada')
  })
})

const missingRedis = missingRedisBinaries()
if (missingRedis !== undefined && process.env.CI === 'true') throw new Error(`Nuxt + Redis on CI: ${missingRedis}`)

describe.skipIf(missingRedis !== undefined)('the Nuxt example with a RedisStore (private redis-server)', () => {
  let redis: RedisProcess
  let server: RunningServer
  beforeAll(async () => {
    redis = await startRedis()
    server = await startApp(nuxt({ RUTS_REDIS_PORT: String(redis.port) }))
  })
  afterAll(async () => {
    await server?.close()
    await redis?.stop(true)
  })

  it('keeps the sessions in Redis, and renders the signed-in user', async () => {
    const cookie = await login(server, 'Ada')
    expect(Number(await cli(redis.port, 'DBSIZE'))).toBeGreaterThan(0)
    const page = await (await fetch(server.url, { headers: { cookie: `session=${cookie}` } })).text()
    expect(who(page)).toBe('Logged in as Ada')
  })

  it('answers 503 without a cookie once Redis is gone, and the page does not render as anonymous', async () => {
    const cookie = await login(server, 'Ada')
    await redis.stop(true)
    for (const headers of [{}, { cookie: `session=${cookie}` }]) {
      const response = await fetch(`${server.url}/api/count`, { headers })
      expect(response.status).toBe(503)
      expect(response.headers.getSetCookie()).toEqual([])
    }
    const page = await fetch(server.url, { headers: { cookie: `session=${cookie}` } })
    expect(page.status).toBe(503)
    expect(page.headers.getSetCookie()).toEqual([])
    expect(await page.text()).not.toContain('Not logged in.')
  })
})
