// Session layers, Redis clients and Postgres pools for the server children. ruts is imported by its
// package name, which resolves to the built `dist/` (`npm run bench` builds first): the servers run
// the same JavaScript users install, not the TypeScript source through tsx (whose transform adds work
// the published code does not do, e.g. a `__name` call per arrow function it names).
import connectPgSimple from 'connect-pg-simple'
import expressSession from 'express-session'
import pg from 'pg'
import { createClient } from 'redis'
import { MemoryStore, SessionLayer, type SessionStore } from 'ruts'
import { SECRET, SESSION_MAX_AGE } from './shared.js'

/** A port the runner passed in the environment (its own servers, never the shared ones). */
function portOf(name: 'BENCH_REDIS_PORT' | 'BENCH_PG_PORT'): number {
  const port = Number(process.env[name])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${name} is not set`)
  return port
}

/** The Redis the runner started for this run (never the shared one on 6379). */
export function redisPort(): number {
  return portOf('BENCH_REDIS_PORT')
}

/** The ruts stores the bench runs; `layered` is Redis (hot) over Postgres (cold). */
export type RutsStore = 'memory' | 'redis' | 'postgres' | 'layered'

/**
 * A pool on the runner's private Postgres. Every contender gets the same settings; idle
 * connections are kept (`idleTimeoutMillis: 0`) so a measured window never pays for opening a
 * backend that an idle spell between its rounds closed.
 */
export function benchPool(): pg.Pool {
  const port = portOf('BENCH_PG_PORT')
  return new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 16, idleTimeoutMillis: 0 })
}

/** Tables of one contender, so no two contenders read each other's rows. */
export function tableOf(prefix: string): string {
  return `${prefix}_${process.argv[2]?.replace(/\W/g, '_') ?? 'bench'}`
}

async function rutsStore(store: RutsStore): Promise<SessionStore> {
  if (store === 'memory') return new MemoryStore()
  const { RedisStore } = await import('ruts/redis')
  if (store === 'redis') return new RedisStore({ client: await nodeRedisClient(), prefix: 'ruts:' })
  const { PostgresStore } = await import('ruts/postgres')
  const cold = await PostgresStore.create({ pool: benchPool(), table: tableOf('ruts') })
  if (store === 'postgres') return cold
  const { LayeredStore } = await import('ruts/layered')
  return new LayeredStore({ hot: new RedisStore({ client: await nodeRedisClient(), prefix: 'ruts:' }), cold })
}

/**
 * A ruts layer on one of its stores. `secure: false` because the bench speaks plain HTTP on
 * loopback; the secret makes ruts sign its cookie like every peer does.
 */
export async function rutsLayer(store: RutsStore): Promise<SessionLayer> {
  const cookie = { name: 'session', secure: false, maxAge: SESSION_MAX_AGE }
  const layer = new SessionLayer({ store: await rutsStore(store), cookie, secret: SECRET })
  const probe = process.env.BENCH_COOKIE_PROBE
  if (probe === 'resend' || probe === 'quiet') probeCookies(layer, probe === 'quiet')
  return layer
}

/**
 * The cookie probe (bench/cookie.ts): wrap every handle's `commit()` the same way in both arms; with
 * `quiet`, a `Set-Cookie` whose `name=value` the request's Cookie header already carries (it only
 * moves Max-Age, as every counter write does) is dropped, and with it the response's
 * `Cache-Control: no-store`, which the adapters add only beside a cookie. Both arms do the same
 * work up to that decision, so their difference is what building and sending that header costs the
 * server.
 */
function probeCookies(layer: SessionLayer, quiet: boolean): void {
  const open = layer.open.bind(layer)
  layer.open = (header, transport) => {
    const handle = open(header, transport)
    const commit = handle.commit.bind(handle)
    handle.commit = async () => {
      const line = await commit()
      const presented = typeof header === 'string' ? header : (header ?? []).join('; ')
      const refresh = typeof line === 'string' && presented.includes(line.slice(0, line.indexOf(';')))
      return quiet && refresh ? undefined : line
    }
    return handle
  }
}

/** The ruts store of a `ruts-*` variant. */
export function rutsStoreOf(variant: string): RutsStore {
  return variant.slice('ruts-'.length) as RutsStore
}

/**
 * A node-redis v5 client: connect-redis 9 speaks its API, and ruts runs on the same client, so the
 * Redis columns compare what each session library sends, not two clients. (ruts on ioredis, with and
 * without `enableAutoPipelining`, was measured against it once: docs/bench.md.)
 */
export async function nodeRedisClient(): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ socket: { host: '127.0.0.1', port: redisPort() } })
  await client.connect()
  return client
}

/**
 * connect-pg-simple on the bench pool, its table created on first use. It extends
 * express-session's `Store`, which @fastify/session accepts as well (as it does connect-redis).
 *
 * Each contender gets its own schema: connect-pg-simple's table.sql names the primary key
 * `session_pkey` and the index `IDX_session_expire` whatever the table is called, and index names
 * are unique per schema, so a second contender's table in the same schema fails to create.
 */
export async function pgSimpleStore(): Promise<expressSession.Store> {
  const pool = benchPool()
  // (Not `pg_…`: Postgres reserves schema names that start so.)
  const schemaName = tableOf('connect_pg_simple')
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`)
  const PgStore = connectPgSimple(expressSession)
  return new PgStore({ pool, schemaName, tableName: 'session', createTableIfMissing: true })
}
