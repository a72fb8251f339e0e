// Session layers and Redis clients for the server children. ruts is imported from ../../src (the
// TypeScript source, run through tsx): the bench measures the working tree without a build step.
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { MemoryStore, SessionLayer } from '../../src/index.js'
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
  const { RedisStore } = await import('../../src/stores/redis/index.js')
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
