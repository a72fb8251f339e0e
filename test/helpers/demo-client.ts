import { CookieClient } from '../../src/testing/http-client.js'

/** The User-Agent strings the demo tests log in with, and what the devices page calls them. */
export const userAgents = {
  chromeOnLinux:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  safariOnIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  firefoxOnWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
} as const

/** A POST's answer, as the demo tests look at it. */
export interface FormResponse {
  status: number
  /** The `Location` of a redirect, or `null`. */
  location: string | null
  body: string
}

/** A browser stand-in for the demo: {@link CookieClient}'s GETs, plus form posts that keep the cookie. */
export class DemoClient extends CookieClient {
  readonly #base: string

  /** @param base - the demo's URL */
  constructor(base: string) {
    super(base)
    this.#base = base
  }

  /**
   * Post a form as a browser would, with the session cookie, and keep the cookie the answer sets
   * (or drop it on `Max-Age=0`), as `request()` does for GETs.
   *
   * @param path - the form's action
   * @param form - the form fields
   * @param headers - more request headers (`origin`, `sec-fetch-site`, `user-agent`)
   * @returns the status, the redirect target and the body
   */
  async post(
    path: string,
    form: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<FormResponse> {
    const request = new Headers(headers)
    if (this.value !== undefined) request.set('cookie', `session=${this.value}`)
    const body = new URLSearchParams(form)
    const response = await fetch(new URL(path, this.#base), {
      method: 'POST',
      body,
      headers: request,
      redirect: 'manual',
    })
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('session='))
    if (cookie !== undefined) {
      this.value = /;\s*Max-Age=0(;|$)/i.test(cookie) ? undefined : cookie.slice('session='.length, cookie.indexOf(';'))
    }
    return { status: response.status, location: response.headers.get('location'), body: await response.text() }
  }
}

/**
 * Log in to the demo as `name` from a new browser stand-in.
 *
 * @param base - the demo's URL
 * @param name - the user name to type
 * @param userAgent - the browser's User-Agent
 * @returns the client, holding its logged-in session cookie
 */
export async function logIn(base: string, name: string, userAgent: string): Promise<DemoClient> {
  const client = new DemoClient(base)
  const answer = await client.post('/login', { name }, { 'user-agent': userAgent })
  if (answer.status !== 303 || answer.location !== '/devices') throw new Error(`login answered ${answer.status}`)
  return client
}

/** One row of the devices page. */
export interface DeviceRow {
  device: string
  current: boolean
  /** The handle in its "Sign out" form; `undefined` for this device (it has "Log out" instead). */
  handle: string | undefined
}

/**
 * @param body - the HTML of `/devices`
 * @returns its device rows, in page order
 */
export function devicesIn(body: string): DeviceRow[] {
  const rows = body.split('<tr class="device"').slice(1)
  return rows.map((row) => ({
    device: /<td>([^<]*)/.exec(row)?.[1]?.trim() ?? '',
    current: row.startsWith(' id="this-device"') && row.includes('(this device)'),
    handle: /name="handle" value="([^"]*)"/.exec(row)?.[1],
  }))
}
