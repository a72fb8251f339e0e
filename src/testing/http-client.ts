/** One response as the suites look at it. */
export interface ClientResponse {
  status: number
  body: string
  json: unknown
  /** Every `Set-Cookie` header, separately. */
  setCookies: string[]
  /** The `Set-Cookie` of the session cookie, if any. */
  sessionCookie: string | undefined
  headers: Headers
}

/**
 * A tiny browser stand-in: keeps the session cookie between requests like a browser would, honours
 * `Max-Age=0` removals, and lets a test send arbitrary raw `Cookie` headers.
 */
export class CookieClient {
  /** The session cookie value the client holds, or `undefined`. */
  value: string | undefined
  readonly #base: string
  readonly #name: string

  /**
   * @param base - server URL, e.g. `http://127.0.0.1:1234`
   * @param name - session cookie name
   */
  constructor(base: string, name = 'session') {
    this.#base = base
    this.#name = name
  }

  /**
   * @param path - path and query
   * @param cookie - raw `Cookie` header to send instead of the jar's
   * @returns the response
   */
  async request(path: string, cookie?: string | string[]): Promise<ClientResponse> {
    const headers = new Headers()
    const raw = cookie ?? (this.value === undefined ? undefined : `${this.#name}=${this.value}`)
    if (Array.isArray(raw)) for (const one of raw) headers.append('cookie', one)
    else if (raw !== undefined) headers.set('cookie', raw)
    const response = await fetch(new URL(path, this.#base), { headers, redirect: 'manual' })
    const body = await response.text()
    const setCookies = response.headers.getSetCookie()
    const sessionCookie = setCookies.find((line) => line.startsWith(`${this.#name}=`))
    if (sessionCookie !== undefined && cookie === undefined) {
      const value = sessionCookie.slice(this.#name.length + 1, sessionCookie.indexOf(';'))
      this.value = /;\s*Max-Age=0(;|$)/i.test(sessionCookie) ? undefined : value
    }
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      json = undefined
    }
    return { status: response.status, body, json, setCookies, sessionCookie, headers: response.headers }
  }
}

/**
 * @param setCookie - a `Set-Cookie` header value
 * @returns its `Max-Age` in seconds, or `undefined`
 */
export function maxAgeOf(setCookie: string | undefined): number | undefined {
  const match = /;\s*Max-Age=(\d+)/i.exec(setCookie ?? '')
  return match ? Number(match[1]) : undefined
}
