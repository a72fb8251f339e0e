// Session layers and Redis clients for the server children. ruts is imported by its package name,
// which resolves to the built `dist/` (`npm run bench` builds first): the servers run the same
// JavaScript users install, not the TypeScript source through tsx (whose transform adds work the
// published code does not do, e.g. a `__name` call per arrow function it names).
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { MemoryStore, SessionLayer } from 'ruts'
import { SECRET, SESSION_MAX_AGE } from './shared.js'

/** The Redis the runner started for this run (never the shared one on 6379). */
export function redisPort(): number {
  const port = Number(process.env.BENCH_REDIS_PORT)
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_REDIS_PORT is not set')
  return port
}

/**
 * A ruts layer on MemoryStore or RedisStore (ioredis). `secure: false` because the bench speaks
 * plain HTTP on loopback; the secret makes ruts sign its cookie like every peer does.
 */
export async function rutsLayer(store: 'memory' | 'redis'): Promise<SessionLayer> {
  const cookie = { name: 'session', secure: false, maxAge: SESSION_MAX_AGE }
  if (store === 'memory') return new SessionLayer({ store: new MemoryStore(), cookie, secret: SECRET })
  const { RedisStore } = await import('ruts/redis')
  const client = new Redis({ host: '127.0.0.1', port: redisPort(), lazyConnect: true })
  await client.connect()
  return new SessionLayer({ store: new RedisStore({ client, prefix: 'ruts:' }), cookie, secret: SECRET })
}

/** A node-redis v5 client for connect-redis, whose v9 speaks the node-redis API. */
export async function nodeRedisClient(): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ socket: { host: '127.0.0.1', port: redisPort() } })
  await client.connect()
  return client
}
