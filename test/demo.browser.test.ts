import { createServer } from 'node:http'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../examples/demo/app.js'
import type { RunningServer } from '../src/testing/adapter-suite.js'
import { chromiumAvailable, launchChromium } from './helpers/chromium.js'
import { userAgents } from './helpers/demo-client.js'
import { listen } from './helpers/listen.js'

// A browser test drives several pages through several logins: on the shared 2-core machine under a
// full test run that takes tens of seconds, well past the suite's default.
describe.skipIf(!chromiumAvailable)('demo app in a real browser (Chromium)', { timeout: 90_000 }, () => {
  let server: RunningServer
  let browser: Browser
  // localhost, not 127.0.0.1: browsers accept Secure cookies from http://localhost.
  let base: string
  beforeAll(async () => {
    server = await listen(createServer(createDemoApp()))
    browser = await launchChromium()
    base = server.url.replace('127.0.0.1', 'localhost')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  /** A fresh browser profile (its own cookie jar), logged in as `name` through the login form. */
  async function logIn(name: string, userAgent?: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext(userAgent === undefined ? {} : { userAgent })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.fill('input[name=name]', name)
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/devices`)
    return { context, page }
  }

  /** The device labels on the devices page, "(this device)" included. */
  const rowsOf = (page: Page) => page.locator('tr.device td:first-child').allTextContents()

  it('keeps the count, logs in with a new id and a one-time greeting, and logs out', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${base}/`)
    expect(await page.textContent('#visits')).toBe("You've visited this page 1 times")
    await page.reload()
    expect(await page.textContent('#visits')).toBe("You've visited this page 2 times")
    const [before] = await context.cookies()
    expect(before).toMatchObject({ name: 'session', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })

    await page.goto(`${base}/login`)
    await page.fill('input[name=name]', 'Ada')
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/devices`)
    expect(await page.textContent('#flash')).toBe('Welcome, Ada!')
    expect(await rowsOf(page)).toEqual(['Headless Chrome on Linux (this device)'])
    await page.reload()
    expect(await page.locator('#flash').count()).toBe(0)
    const [after] = await context.cookies()
    expect(after?.value).not.toBe(before?.value)

    await page.goto(`${base}/`)
    expect(await page.textContent('#visits')).toBe("You've visited this page 3 times")

    await page.goto(`${base}/whoami`)
    expect(await page.textContent('#who')).toContain('Logged in as Ada')
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/whoami`)
    expect(await page.textContent('#who')).toBe('Not logged in.')
    expect(await context.cookies()).toEqual([])
    await context.close()
  })

  it('shows both browsers of a user on "Your devices"; signing the other out logs it out', async () => {
    const a = await logIn('Grace')
    // B claims another browser, so the two rows can be told apart.
    const b = await logIn('Grace', userAgents.firefoxOnWindows)
    expect(await rowsOf(b.page)).toEqual(['Firefox on Windows (this device)', 'Headless Chrome on Linux'])

    await a.page.reload()
    expect(await rowsOf(a.page)).toEqual(['Firefox on Windows', 'Headless Chrome on Linux (this device)'])
    expect(await a.page.textContent('#this-device')).toContain('(this device)')
    await a.page
      .locator('tr.device', { hasText: 'Firefox on Windows' })
      .getByRole('button', { name: 'Sign out' })
      .click()
    await a.page.waitForURL(`${base}/devices`)
    expect(await a.page.textContent('#flash')).toBe('Signed out that device.')
    expect(await rowsOf(a.page)).toEqual(['Headless Chrome on Linux (this device)'])

    // B still holds its cookie; its next request finds no session and lands on the login form.
    expect(await b.context.cookies()).toHaveLength(1)
    await b.page.goto(`${base}/devices`)
    expect(b.page.url()).toBe(`${base}/login`)
    expect(await b.page.locator('input[name=name]').count()).toBe(1)
    await b.page.goto(`${base}/whoami`)
    expect(await b.page.textContent('#who')).toBe('Not logged in.')

    await a.page.goto(`${base}/whoami`)
    expect(await a.page.textContent('#who')).toContain('Logged in as Grace')
    await a.context.close()
    await b.context.close()
  })

  it('"Sign out everywhere else" logs the other browser out and keeps this one logged in', async () => {
    const a = await logIn('Margaret')
    const b = await logIn('Margaret', userAgents.safariOnIos)
    await a.page.reload()
    expect(await rowsOf(a.page)).toHaveLength(2)

    await a.page.getByRole('button', { name: 'Sign out everywhere else' }).click()
    await a.page.waitForURL(`${base}/devices`)
    expect(await a.page.textContent('#flash')).toBe('Signed out 1 other device.')
    expect(await rowsOf(a.page)).toEqual(['Headless Chrome on Linux (this device)'])
    expect(await a.page.textContent('#alone')).toBe('No other device is signed in.')
    await a.page.goto(`${base}/whoami`)
    expect(await a.page.textContent('#who')).toContain('Logged in as Margaret')

    await b.page.goto(`${base}/devices`)
    expect(b.page.url()).toBe(`${base}/login`)
    await a.context.close()
    await b.context.close()
  })

  it('renders a hostile user name as text, and a form posted from another site does nothing', async () => {
    const name = '<img src=x onerror="document.title=1">'
    const a = await logIn(name)
    expect(await a.page.textContent('#user')).toBe(name)
    expect(await a.page.locator('#user img').count()).toBe(0)
    const b = await logIn(name, userAgents.safariOnIos)

    // Another site (127.0.0.1 is a different site from localhost), opened in A's browser, posts the
    // "Sign out everywhere else" form to the demo. Playwright serves its page; no server of ours does.
    const attacker = server.url
    await a.context.route(`${attacker}/attack`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${base}/devices/sign-out-others"><button>Win a prize</button></form>`,
      }),
    )
    const page = await a.context.newPage()
    await page.goto(`${attacker}/attack`)
    const [response] = await Promise.all([
      page.waitForResponse(`${base}/devices/sign-out-others`),
      page.click('button'),
    ])
    // Both layers, each on its own: SameSite=Lax kept the cookie home, and the Fetch Metadata check refused.
    expect((await response.request().allHeaders()).cookie).toBeUndefined()
    expect(response.status()).toBe(403)
    await b.page.reload()
    expect(await rowsOf(b.page)).toHaveLength(2)
    await a.context.close()
    await b.context.close()
  })
})
