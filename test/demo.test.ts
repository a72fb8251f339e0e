import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../examples/demo/app.js'
import type { RunningServer } from '../src/testing/adapter-suite.js'
import { CookieClient } from '../src/testing/http-client.js'
import { listen } from './helpers/listen.js'

describe('demo app over HTTP', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await listen(createServer(createDemoApp()))
  })
  afterAll(() => server.close())

  it('counts visits per browser', async () => {
    const alice = new CookieClient(server.url)
    const bob = new CookieClient(server.url)
    expect((await alice.request('/')).body).toContain("You've visited this page 1 times")
    expect((await alice.request('/')).body).toContain("You've visited this page 2 times")
    expect((await bob.request('/')).body).toContain("You've visited this page 1 times")
  })

  it('regenerates the id on login, greets once, keeps the count, and deletes the session on logout', async () => {
    const browser = new CookieClient(server.url)
    await browser.request('/')
    const anonymous = browser.value
    const form = new URLSearchParams({ name: '<ada>' })
    const login = await fetch(new URL('/login', server.url), {
      method: 'POST',
      body: form,
      headers: { cookie: `session=${anonymous}` },
      redirect: 'manual',
    })
    expect(login.status).toBe(303)
    const cookie = login.headers.getSetCookie()[0] ?? ''
    const id = cookie.slice('session='.length, cookie.indexOf(';'))
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(id).not.toBe(anonymous)
    browser.value = id
    const greeted = (await browser.request('/whoami')).body
    expect(greeted).toContain('Logged in as <b>&#60;ada&#62;</b>')
    expect(greeted).toContain('<p id="flash">Welcome, &#60;ada&#62;!</p>')
    // The flash was taken: the next page shows none.
    expect((await browser.request('/whoami')).body).not.toContain('id="flash"')
    expect((await browser.request('/')).body).toContain("You've visited this page 2 times")
    expect((await browser.request('/whoami', `session=${anonymous}`)).body).toContain('Not logged in.')

    const logout = await fetch(new URL('/logout', server.url), {
      method: 'POST',
      headers: { cookie: `session=${id}` },
      redirect: 'manual',
    })
    expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0; /)
    expect((await browser.request('/whoami')).body).toContain('Not logged in.')
  })
})
