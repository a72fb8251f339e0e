import { Redis } from 'ioredis'
import { MemoryStore, SessionLayer } from 'ruts'
import { RedisStore } from 'ruts/redis'

/** What this app keeps in a session. */
export type Data = { count: number; user: string; failures: number }

// MemoryStore keeps sessions in this one process. With RUTS_REDIS_PORT set (the repository's tests
// start a private redis-server), the sessions live in Redis on 127.0.0.1 at that port.
async function sessionStore(): Promise<MemoryStore | RedisStore> {
  const port = process.env.RUTS_REDIS_PORT
  if (!port) return new MemoryStore()
  const client = new Redis({
    host: '127.0.0.1',
    port: Number(port),
    lazyConnect: true,
    enableOfflineQueue: false, // while disconnected, fail at once (503) instead of queueing
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
  })
  // An unhandled 'error' event would crash the server.
  client.on('error', (error) => console.warn('redis:', error.message))
  await client.connect()
  return new RedisStore({ client })
}

/** The app's session layer. Secure cookies reach the browser from https:// and http://localhost. */
export const layer = new SessionLayer<Data>({ store: await sessionStore(), cookie: { maxAge: 3600 } })
