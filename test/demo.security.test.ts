import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../examples/demo/app.js'
import type { RunningServer } from '../src/testing/adapter-suite.js'
import { DemoClient, devicesIn, logIn, userAgents } from './helpers/demo-client.js'
import { listen } from './helpers/listen.js'

// User names and User-Agent strings are attacker-controlled; the demo's POST forms change who is
// signed in where. What keeps both harmless, checked over HTTP (test/demo.browser.test.ts repeats
// the important parts in Chromium).
describe('demo app: hostile input and cross-site requests', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await listen(createServer(createDemoApp()))
  })
  afterAll(() => server.close())

  it('shows a <script> user name and a hostile User-Agent as inert text on every page', async () => {
    const name = `<script>alert("x")</script>'&`
    const hostileAgent = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
    const client = await logIn(server.url, name, hostileAgent)
    const escaped = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#38;'
    for (const path of ['/devices', '/whoami']) {
      const { body, headers } = await client.request(path)
      expect(body).toContain(escaped)
      expect(body).not.toMatch(/<script|<img|onerror=alert/i)
      // The second layer: even markup that slipped through could run no script.
      expect(headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(headers.get('x-powered-by')).toBeNull()
    }
    // The device label is built from fixed names only; nothing of the User-Agent reaches the page.
    expect(devicesIn((await client.request('/devices')).body)[0]?.device).toBe('Unknown device')
  })

  it('refuses a POST that a browser reports as coming from another origin, before any session work', async () => {
    const user = await logIn(server.url, 'ada', userAgents.chromeOnLinux)
    const other = await logIn(server.url, 'ada', userAgents.safariOnIos)
    const crossOrigin: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      // A sibling subdomain is same-site, so SameSite=Lax lets the cookie through: this check does not.
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://attacker.example' },
      { origin: 'null' }, // a sandboxed frame
      // Fetch Metadata is what counts when a browser sends it, whatever the Origin says.
      { 'sec-fetch-site': 'cross-site', origin: server.url },
    ]
    for (const headers of crossOrigin) {
      const refused = await user.post('/devices/sign-out-others', {}, headers)
      expect(refused.status).toBe(403)
      expect(refused.body).toContain('Refused: this form was sent from another site.')
    }
    const handle = devicesIn((await user.request('/devices')).body)[0]?.handle ?? ''
    expect(await user.post('/devices/sign-out', { handle }, { 'sec-fetch-site': 'cross-site' })).toMatchObject({
      status: 403,
    })
    expect(await user.post('/logout', {}, { origin: 'https://attacker.example' })).toMatchObject({ status: 403 })
    expect(devicesIn((await other.request('/devices')).body)).toHaveLength(2) // nothing was signed out

    // Login CSRF (signing the victim into the attacker's account) needs no cookie: refused too.
    const victim = new DemoClient(server.url)
    expect(await victim.post('/login', { name: 'attacker' }, { 'sec-fetch-site': 'cross-site' })).toMatchObject({
      status: 403,
    })
    expect(victim.value).toBeUndefined()

    // The same forms from the demo's own pages go through.
    const host = new URL(server.url).host
    const sameOrigin = await user.post('/devices/sign-out-others', {}, { 'sec-fetch-site': 'same-origin' })
    expect(sameOrigin).toMatchObject({ status: 303, location: '/devices' })
    expect((await other.request('/devices')).headers.get('location')).toBe('/login')
    expect(await user.post('/logout', {}, { origin: `http://${host}` })).toMatchObject({ status: 303 })
  })
})
