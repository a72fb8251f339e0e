// The contender matrix: every framework runs its bare baseline, ruts on both stores, and the
// peers users would otherwise pick. `variant` selects the session setup inside the server child.

export type Framework = 'express' | 'fastify' | 'hono'
export type Variant = 'bare' | 'ruts-memory' | 'ruts-redis' | 'peer-memory' | 'peer-redis' | 'peer-cookie'

export interface Contender {
  /** Stable id, also the child's argument: `<framework>:<variant>`. */
  id: string
  framework: Framework
  variant: Variant
  label: string
  /** Talks to Redis: the runner flushes Redis before it and reads Redis counters around each cell. */
  redis: boolean
  /** The peer this ruts variant is held against: 'memory' peers for ruts-memory, store peers for ruts-redis. */
  tier: 'baseline' | 'memory' | 'store'
  ruts: boolean
}

function contender(framework: Framework, variant: Variant, label: string): Contender {
  const redis = variant === 'ruts-redis' || variant === 'peer-redis'
  const tier = variant === 'bare' ? 'baseline' : variant.endsWith('memory') ? 'memory' : 'store'
  return { id: `${framework}:${variant}`, framework, variant, label, redis, tier, ruts: variant.startsWith('ruts') }
}

export const CONTENDERS: readonly Contender[] = [
  contender('express', 'bare', 'express (bare)'),
  contender('express', 'ruts-memory', 'ruts + MemoryStore'),
  contender('express', 'ruts-redis', 'ruts + RedisStore (ioredis)'),
  contender('express', 'peer-memory', 'express-session + MemoryStore'),
  contender('express', 'peer-redis', 'express-session + connect-redis (node-redis)'),
  contender('fastify', 'bare', 'fastify (bare)'),
  contender('fastify', 'ruts-memory', 'ruts + MemoryStore'),
  contender('fastify', 'ruts-redis', 'ruts + RedisStore (ioredis)'),
  contender('fastify', 'peer-memory', '@fastify/session + MemoryStore'),
  contender('fastify', 'peer-redis', '@fastify/session + connect-redis (node-redis)'),
  contender('hono', 'bare', 'hono (bare)'),
  contender('hono', 'ruts-memory', 'ruts + MemoryStore'),
  contender('hono', 'ruts-redis', 'ruts + RedisStore (ioredis)'),
  contender('hono', 'peer-memory', 'hono-sessions + MemoryStore'),
  // hono-sessions ships no Redis store; its CookieStore (encrypted session in the cookie) is its
  // only non-memory option, so it stands in as the "store" peer on Hono.
  contender('hono', 'peer-cookie', 'hono-sessions + CookieStore (no Redis store exists)'),
]
