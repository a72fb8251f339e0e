// The contender matrix: every framework runs its bare baseline, ruts on each store, and the peers
// users would otherwise pick. `variant` selects the session setup inside the server child.

export type Framework = 'express' | 'fastify' | 'hono'
export type Variant =
  | 'bare'
  | 'ruts-memory'
  | 'ruts-redis'
  | 'ruts-postgres'
  | 'ruts-layered'
  | 'peer-memory'
  | 'peer-redis'
  | 'peer-postgres'
  | 'peer-cookie'

/** A backing store the runner starts, measures and probes. */
export type StoreKind = 'redis' | 'postgres'

/**
 * Which peers a ruts variant is held against: memory vs memory, Redis vs the Redis peers (on Hono
 * the cookie store stands in), Postgres and Layered (Redis over Postgres) vs the Postgres peers.
 */
export type Tier = 'baseline' | 'memory' | 'redis' | 'postgres'

export interface Contender {
  /** Stable id, also the child's argument: `<framework>:<variant>`. */
  id: string
  framework: Framework
  variant: Variant
  label: string
  /** The stores it talks to: the runner reads their counters around each cell. */
  stores: StoreKind[]
  tier: Tier
  ruts: boolean
  /**
   * Only the cookie probe (bench/cookie.ts): `resend` wraps every handle's `commit()` and passes its
   * `Set-Cookie` through; `quiet` wraps it the same way and drops a line that only refreshes the
   * cookie the request already presented (same id, a later Max-Age).
   */
  cookieProbe?: 'resend' | 'quiet'
}

const STORES: Record<Variant, StoreKind[]> = {
  bare: [],
  'ruts-memory': [],
  'ruts-redis': ['redis'],
  'ruts-postgres': ['postgres'],
  'ruts-layered': ['redis', 'postgres'],
  'peer-memory': [],
  'peer-redis': ['redis'],
  'peer-postgres': ['postgres'],
  'peer-cookie': [],
}

const TIERS: Record<Variant, Tier> = {
  bare: 'baseline',
  'ruts-memory': 'memory',
  'ruts-redis': 'redis',
  'ruts-postgres': 'postgres',
  'ruts-layered': 'postgres',
  'peer-memory': 'memory',
  'peer-redis': 'redis',
  'peer-postgres': 'postgres',
  'peer-cookie': 'redis',
}

function contender(framework: Framework, variant: Variant, label: string): Contender {
  return {
    id: `${framework}:${variant}`,
    framework,
    variant,
    label,
    stores: STORES[variant],
    tier: TIERS[variant],
    ruts: variant.startsWith('ruts'),
  }
}

export const CONTENDERS: readonly Contender[] = [
  contender('express', 'bare', 'express (bare)'),
  contender('express', 'ruts-memory', 'ruts + MemoryStore'),
  contender('express', 'ruts-redis', 'ruts + RedisStore (node-redis)'),
  contender('express', 'ruts-postgres', 'ruts + PostgresStore'),
  contender('express', 'ruts-layered', 'ruts + LayeredStore (Redis over Postgres)'),
  contender('express', 'peer-memory', 'express-session + MemoryStore'),
  contender('express', 'peer-redis', 'express-session + connect-redis (node-redis)'),
  contender('express', 'peer-postgres', 'express-session + connect-pg-simple'),
  contender('fastify', 'bare', 'fastify (bare)'),
  contender('fastify', 'ruts-memory', 'ruts + MemoryStore'),
  contender('fastify', 'ruts-redis', 'ruts + RedisStore (node-redis)'),
  contender('fastify', 'ruts-postgres', 'ruts + PostgresStore'),
  contender('fastify', 'ruts-layered', 'ruts + LayeredStore (Redis over Postgres)'),
  contender('fastify', 'peer-memory', '@fastify/session + MemoryStore'),
  contender('fastify', 'peer-redis', '@fastify/session + connect-redis (node-redis)'),
  contender('fastify', 'peer-postgres', '@fastify/session + connect-pg-simple'),
  contender('hono', 'bare', 'hono (bare)'),
  contender('hono', 'ruts-memory', 'ruts + MemoryStore'),
  contender('hono', 'ruts-redis', 'ruts + RedisStore (node-redis)'),
  contender('hono', 'peer-memory', 'hono-sessions + MemoryStore'),
  // hono-sessions ships no Redis store; its CookieStore (encrypted session in the cookie) is its
  // only non-memory option, so it stands in as the "store" peer on Hono.
  contender('hono', 'peer-cookie', 'hono-sessions + CookieStore (no Redis store exists)'),
]

/**
 * The cookie probe's arms (bench/cookie.ts): ruts + MemoryStore on Express and Fastify with the
 * refresh-only `Set-Cookie` passed through and suppressed, everything else equal.
 */
export const COOKIE_PROBES: readonly Contender[] = (['express', 'fastify'] as const).flatMap((framework) =>
  (['resend', 'quiet'] as const).map((cookieProbe) => ({
    ...contender(
      framework,
      'ruts-memory',
      `ruts + MemoryStore, refresh cookie ${cookieProbe === 'resend' ? 're-sent' : 'suppressed'}`,
    ),
    id: `${framework}:ruts-memory~${cookieProbe}`,
    cookieProbe,
  })),
)
