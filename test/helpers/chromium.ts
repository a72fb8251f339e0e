import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Whether Chromium is installed. Under CI a missing browser is a failure, never a skip; elsewhere
 * the caller skips with a loud warning.
 */
export const chromiumAvailable = existsSync(executablePath)
if (!chromiumAvailable && process.env.CI === 'true')
  throw new Error(`CI needs Chromium at ${executablePath} (apt-get install chromium)`)
if (!chromiumAvailable)
  console.warn(`\n*** SKIPPING the browser tests: no Chromium at ${executablePath} (apt-get install chromium) ***\n`)

/**
 * @returns a headless Chromium that stays off the network (no sync, updates or QUIC)
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
