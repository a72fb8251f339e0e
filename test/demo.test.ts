import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../examples/demo/app.js'
import type { RunningServer } from '../src/testing/adapter-suite.js'
import { CookieClient } from '../src/testing/http-client.js'
import { DemoClient, devicesIn, logIn, userAgents } from './helpers/demo-client.js'
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
    const browser = new DemoClient(server.url)
    await browser.request('/')
    const anonymous = browser.value
    const login = await browser.post('/login', { name: 'Ada' }, { 'user-agent': userAgents.chromeOnLinux })
    expect(login).toMatchObject({ status: 303, location: '/devices' })
    const id = browser.value
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(id).not.toBe(anonymous)
    const greeted = (await browser.request('/devices')).body
    expect(greeted).toContain('<p id="flash">Welcome, Ada!</p>')
    // The flash was taken: the next page shows none.
    expect((await browser.request('/devices')).body).not.toContain('id="flash"')
    expect((await browser.request('/whoami')).body).toContain('Logged in as <b>Ada</b>')
    expect((await browser.request('/')).body).toContain("You've visited this page 2 times")
    expect((await browser.request('/whoami', `session=${anonymous}`)).body).toContain('Not logged in.')

    const logout = await browser.post('/logout')
    expect(logout).toMatchObject({ status: 303, location: '/whoami' })
    expect(browser.value).toBeUndefined()
    expect((await browser.request('/whoami', `session=${id}`)).body).toContain('Not logged in.')
  })

  it("lists the user's devices, marks this one, and signs another out by its handle", async () => {
    const laptop = await logIn(server.url, 'grace', userAgents.chromeOnLinux)
    const phone = await logIn(server.url, 'grace', userAgents.safariOnIos)
    const linus = await logIn(server.url, 'linus', userAgents.firefoxOnWindows)
    const linusPhone = await logIn(server.url, 'linus', userAgents.safariOnIos)

    const page = (await laptop.request('/devices')).body
    expect(page).toContain('Signed in as <b id="user">grace</b>')
    const rows = devicesIn(page)
    // Newest activity first: the phone logged in last.
    expect(rows).toEqual([
      { device: 'Safari on iOS', current: false, handle: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      { device: 'Chrome on Linux', current: true, handle: undefined },
    ])
    expect(page).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/)
    expect(page).toContain('action="/devices/sign-out-others"')
    expect(devicesIn((await phone.request('/devices')).body).map((row) => row.current)).toEqual([true, false])

    // Another user's handle ends nothing, even posted from a signed-in session.
    const linusPhoneHandle = devicesIn((await linus.request('/devices')).body)[0]?.handle ?? ''
    expect(await laptop.post('/devices/sign-out', { handle: linusPhoneHandle })).toMatchObject({ status: 303 })
    expect((await laptop.request('/devices')).body).toContain('That device was already signed out.')
    expect((await linusPhone.request('/devices')).status).toBe(200)

    const handle = rows[0]?.handle ?? ''
    expect(await laptop.post('/devices/sign-out', { handle })).toMatchObject({ status: 303, location: '/devices' })
    const after = (await laptop.request('/devices')).body
    expect(after).toContain('<p id="flash">Signed out that device.</p>')
    expect(devicesIn(after)).toEqual([{ device: 'Chrome on Linux', current: true, handle: undefined }])
    expect(after).toContain('No other device is signed in.')
    // The phone is anonymous on its next request, and its handle is stale now.
    expect(await phone.request('/devices')).toMatchObject({ status: 303 })
    expect((await phone.request('/devices')).headers.get('location')).toBe('/login')
    expect((await phone.request('/whoami')).body).toContain('Not logged in.')
    await laptop.post('/devices/sign-out', { handle })
    expect((await laptop.request('/devices')).body).toContain('That device was already signed out.')
  })

  it('"Sign out everywhere else" ends every other session of the user and keeps this one', async () => {
    const here = await logIn(server.url, 'margaret', userAgents.chromeOnLinux)
    const others = [
      await logIn(server.url, 'margaret', userAgents.safariOnIos),
      await logIn(server.url, 'margaret', userAgents.firefoxOnWindows),
    ]
    const bystander = await logIn(server.url, 'someone else', userAgents.safariOnIos)
    expect(devicesIn((await here.request('/devices')).body)).toHaveLength(3)

    expect(await here.post('/devices/sign-out-others')).toMatchObject({ status: 303, location: '/devices' })
    const page = (await here.request('/devices')).body
    expect(page).toContain('<p id="flash">Signed out 2 other devices.</p>')
    expect(devicesIn(page)).toEqual([{ device: 'Chrome on Linux', current: true, handle: undefined }])
    expect((await here.request('/whoami')).body).toContain('Logged in as <b>margaret</b>')
    for (const other of others) expect((await other.request('/devices')).headers.get('location')).toBe('/login')
    expect((await bystander.request('/devices')).status).toBe(200)
  })

  it('sends a browser without a session to the login page', async () => {
    const anonymous = new DemoClient(server.url)
    expect((await anonymous.request('/devices')).headers.get('location')).toBe('/login')
    expect(await anonymous.post('/devices/sign-out', { handle: 'x'.repeat(43) })).toMatchObject({
      status: 303,
      location: '/login',
    })
    expect(await anonymous.post('/devices/sign-out-others')).toMatchObject({ status: 303, location: '/login' })
    expect(anonymous.value).toBeUndefined() // and none of it created a session
    const login = (await anonymous.request('/login')).body
    expect(login).toContain('<input name="name"')
    expect(login).toContain('There is no password')
  })
})
