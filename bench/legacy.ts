// What a migrated request costs (docs/migrating-from-express-session.md, "Cost per migrated
// request"): a session written by connect-redis 9 is carried into a RedisStore on the same private
// redis-server, through the built package. Prints store calls and wall time per migrating request
// (median of 200, sessions of 5 fields) next to an ordinary read of a ruts session.
// Run after a build: `npm run build && npx tsx bench/legacy.ts`.
import { createHmac } from 'node:crypto'
import { createRequire } from 'node:module'
import { createClient } from 'redis'
import { SessionLayer } from 'ruts'
import { legacySessions } from 'ruts/express-session'
import { RedisStore } from 'ruts/redis'
import { countingStore } from '../src/testing/counting-store.js'
import { startRedis, stopAll } from '../test/redis/server.js'

type LegacyStore = {
  get(sid: string, callback: (error: unknown, session?: object | null) => void): unknown
  set(sid: string, session: object, callback: (error?: unknown) => void): unknown
  destroy(sid: string, callback?: (error?: unknown) => void): unknown
}
const { RedisStore: ConnectRedisStore } = createRequire(import.meta.url)('connect-redis') as {
  RedisStore: new (options: { client: unknown }) => LegacyStore
}

const SESSIONS = 200
const SECRET = 'keyboard cat'
const server = await startRedis()
const client = createClient({ socket: { host: '127.0.0.1', port: server.port } })
await client.connect()
try {
  const legacyCalls = { get: 0, destroy: 0 }
  const connect = new ConnectRedisStore({ client })
  const legacy: LegacyStore = {
    get(sid, callback) {
      legacyCalls.get++
      return connect.get(sid, callback)
    },
    set: (sid, session, callback) => connect.set(sid, session, callback),
    destroy(sid, callback) {
      legacyCalls.destroy++
      return connect.destroy(sid, callback)
    },
  }
  const store = countingStore(new RedisStore({ client }))
  const layer = new SessionLayer({ store, legacy: legacySessions({ store: legacy, secret: SECRET }) })
  const cookie = { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), path: '/', httpOnly: true }
  const data = { user: { id: 'u1', name: 'Ada' }, views: 7, cart: ['a', 'b'], theme: 'dark', flash: 'hi' }
  const sids = Array.from({ length: SESSIONS }, (_, index) => `legacy-session-${index}`)
  for (const sid of sids) await new Promise((resolve) => legacy.set(sid, { ...data, cookie }, resolve))

  const migrate: number[] = []
  const ordinary: number[] = []
  for (const sid of sids) {
    const signature = createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '')
    let started = performance.now()
    const session = layer.open(`connect.sid=${encodeURIComponent(`s:${sid}.${signature}`)}`)
    await session.get('user')
    const lines = await session.commit()
    migrate.push(performance.now() - started)
    const ruts = String([lines].flat()[0]).split(';')[0] as string
    started = performance.now()
    const next = layer.open(ruts)
    await next.get('user')
    await next.commit()
    ordinary.push(performance.now() - started)
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]?.toFixed(2)
  const per = (count: number) => (count / SESSIONS).toFixed(1)
  const { write, get } = store.calls
  console.log(`fields per session: ${Object.keys(data).length}`)
  console.log(`migrating request: median ${median(migrate)} ms; per request legacy get ${per(legacyCalls.get)},`)
  console.log(`  legacy destroy ${per(legacyCalls.destroy)}, ruts writes ${per(write)}, ruts gets ${per(get / 2)}`)
  console.log(`ordinary read of the migrated session: median ${median(ordinary)} ms`)
} finally {
  await client.close()
  await stopAll([server])
}
