// Load generation and the HTTP-side checks. Every autocannon connection keeps its own cookie jar,
// seeded with its own session before the run and updated from each Set-Cookie it receives, the way
// a browser would; the "create" scenario sends no cookie at all so every request starts a session.
import autocannon from 'autocannon'
import { LOST_UPDATE_WRITERS } from './apps/shared.js'

/** Cookie name → value, as one browser would hold them for the bench's origin. */
export type Jar = Map<string, string>

/** Apply Set-Cookie header values to a jar (a `Max-Age=0` or empty value deletes). */
export function storeCookies(jar: Jar, setCookie: string | readonly string[] | undefined): void {
  if (setCookie === undefined) return
  for (const header of typeof setCookie === 'string' ? [setCookie] : setCookie) {
    const pair = header.split(';', 1)[0] ?? ''
    const equals = pair.indexOf('=')
    if (equals <= 0) continue
    const name = pair.slice(0, equals).trim()
    const value = pair.slice(equals + 1).trim()
    if (value === '' || /;\s*max-age=0\b/i.test(header)) jar.delete(name)
    else jar.set(name, value)
  }
}

export function cookieHeader(jar: Jar): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

async function get(base: string, path: string, jar?: Jar): Promise<string> {
  const response = await fetch(base + path, { headers: jar?.size ? { cookie: cookieHeader(jar) } : {} })
  if (jar !== undefined) storeCookies(jar, response.headers.getSetCookie())
  const body = await response.text()
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 200)}`)
  return body
}

/** One fresh session per connection, prepared for `scenario` (the big one holds 100 × 1 KB). */
export async function seedJars(base: string, scenario: string, count: number): Promise<Jar[]> {
  const jars = Array.from({ length: count }, (): Jar => new Map())
  // A few at a time: seeding a big session is 100 writes and must not time out the store.
  for (let i = 0; i < count; i += 4) {
    await Promise.all(jars.slice(i, i + 4).map((jar) => get(base, `/seed?scenario=${scenario}`, jar)))
  }
  return jars
}

export interface LoadResult {
  requests: number
  requestsPerSecond: number
  /** Latency percentiles in ms. */
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/** Per-connection state; autocannon deep-clones each request object per connection. */
interface JarHolder {
  jar: { cookies: Jar | undefined }
}

/**
 * Drive `path` for `seconds` over `connections` keep-alive connections, as fast as the server
 * answers or at `rate` requests per second overall. With `jars`, connection i takes jar i
 * (round-robin) and keeps it for the whole run.
 */
export async function drive(
  base: string,
  path: string,
  options: { connections: number; seconds: number; jars: Jar[] | undefined; rate?: number },
): Promise<LoadResult> {
  const { jars } = options
  // autocannon acts on its stop timer only at its next sample tick (`sampleInt`, 1000 ms by
  // default): with the default a 1.5 s window really runs 2 s, and dividing its requests by 1.5
  // overstated req/s by a third. Ticks every 100 ms end a window within 0.1 s of its length, and the
  // rate below is taken over the elapsed time autocannon reports (`duration`), never over the
  // asked-for seconds. Its rate limiter hands each connection its quota once per second, so a
  // fixed-rate window must last whole seconds to deliver the rate it asked for.
  if (options.rate !== undefined && (!Number.isInteger(options.seconds) || options.seconds < 1)) {
    throw new Error(`a fixed-rate window lasts whole seconds (autocannon refills per second); got ${options.seconds}`)
  }
  let nextJar = 0
  const request = {
    method: 'GET' as const,
    path,
    jar: { cookies: undefined } as JarHolder['jar'],
    setupRequest(this: unknown, built: autocannon.Request & Partial<JarHolder>) {
      if (jars === undefined || jars.length === 0 || built.jar === undefined) return built
      // A copy: the seeded jar stays pristine for the warm-up and the measured run alike.
      built.jar.cookies ??= new Map(jars[nextJar++ % jars.length])
      built.headers = { ...built.headers, cookie: cookieHeader(built.jar.cookies) }
      return built
    },
    onResponse(this: JarHolder, _status: number, _body: string, _context: unknown, headers: Record<string, unknown>) {
      if (jars === undefined || this.jar.cookies === undefined) return
      const setCookie = headers['set-cookie'] ?? headers['Set-Cookie']
      storeCookies(this.jar.cookies, setCookie as string | string[] | undefined)
    },
  }
  const result = await autocannon({
    url: base,
    connections: options.connections,
    duration: options.seconds,
    sampleInt: 100,
    pipelining: 1,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    requests: [request as unknown as autocannon.Request],
  })
  return {
    requests: result.requests.total,
    // `duration`: seconds from start to the tick that stopped it (`requests.average` is per sample).
    requestsPerSecond: result.requests.total / Math.max(0.001, result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

/** `count` sequential requests on one seeded session (the round-trip probe). */
export async function sequential(base: string, path: string, jar: Jar | undefined, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await get(base, path, jar === undefined ? undefined : new Map(jar))
}

/**
 * The lost-update check: 20 concurrent requests on one session, each setting its own field, then a
 * read-back of how many survived. Responses update the jar in arrival order, like a browser.
 *
 * @returns survivors out of {@link LOST_UPDATE_WRITERS}
 */
export async function lostUpdates(base: string): Promise<number> {
  const [jar] = await seedJars(base, 'counter', 1)
  if (jar === undefined) throw new Error('seeding failed')
  const cookie = cookieHeader(jar)
  await Promise.all(
    Array.from({ length: LOST_UPDATE_WRITERS }, async (_, i) => {
      const response = await fetch(`${base}/lost-set?i=${i}`, { headers: { cookie } })
      storeCookies(jar, response.headers.getSetCookie())
      await response.text()
    }),
  )
  return Number(await get(base, '/lost-count', jar))
}
