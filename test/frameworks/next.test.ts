import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeAdapterBehaviour, type RunningServer } from '../../src/testing/adapter-suite.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { type AppCommand, startApp } from './app-server.js'

// examples/next, built by `npm run test:frameworks` with RUTS_SUITE=1 and served by `next start`.
const next: AppCommand = {
  command: ['node_modules/.bin/next', 'start'],
  cwd: fileURLToPath(new URL('../../examples/next/', import.meta.url)),
  env: (port) => ({ NEXT_TELEMETRY_DISABLED: '1', PORT: String(port), HOSTNAME: '127.0.0.1' }),
}

describeAdapterBehaviour({
  name: 'Next.js route handlers (withSession, next start)',
  start: (layer) => startApp(next, layer.cookie.maxAge),
})

describe('Next.js Server Components and Server Actions (next start)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startApp(next)
  })
  afterAll(() => server?.close())

  const rendered = async (client: CookieClient, path: string, cookie?: string) => {
    const response = await client.request(path, cookie)
    const text = /<pre id="result">([^<]*)<\/pre>/.exec(response.body)?.[1]?.replaceAll('&quot;', '"')
    return { response, result: JSON.parse(text ?? 'null') as { count: number | null; outcome: unknown } }
  }

  it('reads the session in a Server Component, and writes a field of an existing session', async () => {
    const client = new CookieClient(server.url)
    await client.request('/update?field=count&value=5')
    expect((await rendered(client, '/server-component')).result).toEqual({ count: 5, outcome: null })
    const written = await rendered(client, '/server-component?write=6')
    expect(written.result).toEqual({ count: 6, outcome: true })
    expect(written.response.setCookies).toEqual([])
    expect((await client.request('/get?field=count')).json).toMatchObject({ value: 6 })
  })

  it('reads the first session cookie sent: one planted after it cannot replace it (Next keeps the last)', async () => {
    const victim = new CookieClient(server.url)
    await victim.request('/update?field=count&value=5')
    const attacker = new CookieClient(server.url)
    await attacker.request('/update?field=count&value=99')
    const both = `session=${victim.value}; session=${attacker.value}`
    expect((await rendered(victim, '/server-component', both)).result).toEqual({ count: 5, outcome: null })
    // The same on the route handlers (ruts/web), and with the two in separate headers.
    expect((await victim.request('/get?field=count', both)).json).toMatchObject({ value: 5 })
    const split = [`session=${victim.value}`, `session=${attacker.value}`]
    expect((await victim.request('/get?field=count', split)).json).toMatchObject({ value: 5 })
  })

  it('keeps the cookie of a Route Handler that writes, regenerates and throws redirect() (Next answers it)', async () => {
    const client = new CookieClient(server.url)
    await client.request('/update?field=cart&value=2')
    const before = client.value
    const response = await fetch(`${server.url}/redirect-login?name=ada`, {
      redirect: 'manual',
      headers: { cookie: `session=${before}` },
    })
    expect(response.status).toBe(307)
    expect(response.headers.get('location')).toMatch(/\/get-all$/)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('session=')) ?? ''
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    expect(cookie).toMatch(/; HttpOnly/i)
    client.value = cookie.slice('session='.length, cookie.indexOf(';'))
    expect(client.value).not.toBe(before)
    expect((await client.request('/get-all')).json).toEqual({ all: { cart: 2, user: 'ada' }, id: client.value })
  })

  it("answers a form's POST to such a Route Handler 303, as Next does, so the browser does not post it again", async () => {
    const response = await fetch(`${server.url}/redirect-login?name=ada`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'password=secret',
    })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toMatch(/\/get-all$/)
    expect(response.headers.getSetCookie().find((line) => line.startsWith('session='))).toMatch(/^session=[\w-]{22}; /)
  })

  it('refuses a Server Component write that needs a new cookie, before it reaches the store', async () => {
    await server.control?.reset()
    const { response, result } = await rendered(new CookieClient(server.url), '/server-component?write=1')
    expect(result).toEqual({ count: null, outcome: 'ERR_SESSION_HEADERS_SENT' })
    expect(response.setCookies).toEqual([])
    expect((await server.control?.calls())?.write).toBe(0)
  })

  it('explains a prepareRegenerate() in a Server Component as the writes are explained', async () => {
    const client = new CookieClient(server.url)
    await client.request('/update?field=count&value=5')
    const { result } = await rendered(client, '/server-component?prepare')
    expect(result).toEqual({ count: 5, outcome: 'ERR_SESSION_HEADERS_SENT (Server Component)' })
  })
})

describe.skipIf(!chromiumAvailable)('the Next.js example in a real browser (Chromium)', () => {
  let server: RunningServer
  let browser: Browser
  beforeAll(async () => {
    server = await startApp(next)
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('logs in through a Server Action (regenerate, then redirect), counts, and logs out', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // localhost, not 127.0.0.1: browsers accept Secure cookies from http://localhost.
    const base = server.url.replace('127.0.0.1', 'localhost')
    await page.goto(`${base}/`)
    expect(await page.textContent('#who')).toBe('Not logged in.')
    await page.click('#increment')
    await page.waitForSelector('#count:text("Count: 1")')
    const [before] = await context.cookies()
    expect(before).toMatchObject({ name: 'session', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })

    await page.fill('input[name=name]', 'Ada')
    await page.click('#login')
    await page.waitForSelector('#who:text("Logged in as Ada")')
    const [after] = await context.cookies()
    expect(after?.value).not.toBe(before?.value)
    expect(await page.textContent('#count')).toBe('Count: 1')

    await page.click('#increment')
    await page.waitForSelector('#count:text("Count: 2")')
    await page.reload()
    expect(await page.textContent('#count')).toBe('Count: 2')

    await page.click('#logout')
    await page.waitForSelector('#who:text("Not logged in.")')
    expect(await context.cookies()).toEqual([])
    expect(await page.textContent('#count')).toBe('Count: 0')
    await context.close()
  })
})
