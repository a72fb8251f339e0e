// What every benchmark server does, independent of framework and session library: the same routes,
// the same payloads and the same handler logic, so the only difference between two contenders is
// the session middleware. Each app file only maps its library's session API onto `SessionOps`.

/** The measured scenarios; each is one GET route `/<scenario>`. */
export const SCENARIOS = ['untouched', 'counter', 'read', 'create', 'big'] as const
export type Scenario = (typeof SCENARIOS)[number]

/** How many concurrent requests the lost-update check fires at one session. */
export const LOST_UPDATE_WRITERS = 20
/** Fields and field size of the big session. */
export const BIG_FIELDS = 100
export const FIELD_BYTES = 1024

/** A ~1 KB object for the read-only scenario (about 1 KB once encoded by any codec). */
export const PROFILE = {
  id: 'user-0001',
  name: 'Ada Lovelace',
  roles: ['admin', 'author'],
  bio: 'x'.repeat(FIELD_BYTES - 80),
}

const FILLER = 'y'.repeat(FIELD_BYTES)

/**
 * One library's session API as the handlers need it. Sync libraries return plain values; the
 * handlers `await` either way (one microtask, the same for everyone).
 */
export interface SessionOps<Request> {
  get(request: Request, field: string): unknown
  set(request: Request, field: string, value: unknown): unknown
}

/**
 * Run one route. `ops` is `undefined` for the bare-framework baseline, which returns the same body
 * without any session work, so "contender minus baseline" is the session cost alone.
 *
 * @returns the response body (short text: response size must not dominate the comparison)
 */
export async function runRoute<R>(
  route: string,
  query: URLSearchParams,
  ops: SessionOps<R> | undefined,
  request: R,
): Promise<string> {
  switch (route) {
    case 'untouched':
      return 'ok'
    case 'counter':
    case 'big': {
      // counter and big run the same handler (read one field, write it back) so that big/counter
      // isolates the cost of the 100 other fields sitting in the session.
      const count = Number((await ops?.get(request, 'count')) ?? 0) + 1
      await ops?.set(request, 'count', count)
      return `count ${count}`
    }
    case 'read': {
      const profile = (await ops?.get(request, 'profile')) as typeof PROFILE | undefined
      return ops === undefined || profile?.id === PROFILE.id ? 'profile' : 'no profile'
    }
    case 'create':
      await ops?.set(request, 'n', 1)
      return 'created'
    case 'seed': {
      // Prepares one session for one benchmark connection; the runner keeps its cookie.
      const scenario = query.get('scenario')
      await ops?.set(request, 'count', 0)
      if (scenario === 'read') await ops?.set(request, 'profile', PROFILE)
      if (scenario === 'big') {
        for (let i = 0; i < BIG_FIELDS; i++) await ops?.set(request, `field${i}`, `${i}:${FILLER}`)
      }
      return 'seeded'
    }
    case 'lost-set': {
      const index = query.get('i') ?? '0'
      await ops?.set(request, `writer${index}`, Number(index))
      return 'set'
    }
    case 'lost-count': {
      let survivors = 0
      for (let i = 0; i < LOST_UPDATE_WRITERS; i++) {
        if ((await ops?.get(request, `writer${i}`)) === i) survivors++
      }
      return String(survivors)
    }
    default:
      return 'not found'
  }
}

/** The route name of a path like `/counter?x=1`. */
export function routeOf(path: string): { route: string; query: URLSearchParams } {
  const url = new URL(path, 'http://bench.invalid')
  return { route: url.pathname.slice(1), query: url.searchParams }
}

/** Session configuration every contender uses, so cookies and lifetimes match. */
export const SESSION_MAX_AGE = 3600
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
