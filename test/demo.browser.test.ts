import { createServer } from 'node:http'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../examples/demo/app.js'
import type { RunningServer } from '../src/testing/adapter-suite.js'
import { chromiumAvailable, launchChromium } from './helpers/chromium.js'
import { listen } from './helpers/listen.js'

describe.skipIf(!chromiumAvailable)('demo app in a real browser (Chromium)', () => {
  let server: RunningServer
  let browser: Browser
  beforeAll(async () => {
    server = await listen(createServer(createDemoApp()))
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('keeps the count, logs in with a new id and a one-time greeting, and logs out', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // localhost, not 127.0.0.1: browsers accept Secure cookies from http://localhost.
    const base = server.url.replace('127.0.0.1', 'localhost')
    await page.goto(`${base}/`)
    expect(await page.textContent('#visits')).toBe("You've visited this page 1 times")
    await page.reload()
    expect(await page.textContent('#visits')).toBe("You've visited this page 2 times")
    const [before] = await context.cookies()
    expect(before).toMatchObject({ name: 'session', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })

    await page.goto(`${base}/login`)
    await page.fill('input[name=name]', 'Ada')
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/whoami`)
    expect(await page.textContent('#who')).toContain('Logged in as Ada')
    expect(await page.textContent('#flash')).toBe('Welcome, Ada!')
    await page.reload()
    expect(await page.textContent('#who')).toContain('Logged in as Ada')
    expect(await page.locator('#flash').count()).toBe(0)
    const [after] = await context.cookies()
    expect(after?.value).not.toBe(before?.value)

    await page.goto(`${base}/`)
    expect(await page.textContent('#visits')).toBe("You've visited this page 3 times")

    await page.goto(`${base}/whoami`)
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/whoami`)
    expect(await page.textContent('#who')).toBe('Not logged in.')
    expect(await context.cookies()).toEqual([])
    await context.close()
  })
})
