import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import express, { type ErrorRequestHandler } from 'express'
import type pg from 'pg'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/express.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { type LegacySessionsOptions, legacySessions } from '../../src/legacy/express-session.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { listen } from '../helpers/listen.js'
import { postgres, skipReason as postgresSkip, testPool, uniqueTable } from '../postgres/helpers.js'
import { startProxy } from '../postgres/proxy.js'
import { redis, skipReason as redisSkip } from '../redis/clients.js'
import { ConnectRedisStore, connectPgSimple, expressSession, type LegacyStoreHandle } from './modules.js'

// An express-session app and a ruts app on the same backends, each a real Express server: sessions
// the first one creates are picked up by the second, field by field.
const SECRET = 'keyboard cat'
const REMEMBERED_DAYS = 30
const stored = {
  user: { id: 'u-42', name: 'Ada', roles: ['admin', 'ops'] },
  visits: 7,
  cart: [{ sku: 'A-1', qty: 2 }],
  flash: null,
  theme: 'dark',
}
const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** The express-session app: POST /login fills the session the way an existing app would. */
async function legacyApp(store: LegacyStoreHandle): Promise<string> {
  const app = express()
  app.use(expressSession({ store, secret: SECRET, resave: false, saveUninitialized: false }))
  app.post('/login', (req, res) => {
    const legacySession = (req as unknown as { session: { cookie: { maxAge: number } } }).session
    Object.assign(legacySession, stored)
    // "Remember me": this session's cookie lives 30 days instead of the browser session.
    if (req.query.remember !== undefined) legacySession.cookie.maxAge = REMEMBERED_DAYS * 86_400_000
    res.send('ok')
  })
  const server = await listen(createServer(app))
  closers.push(server.close)
  return server.url
}

/** The ruts app: GET /fields answers every field; errors answer their status and code. */
async function rutsApp(store: SessionStore, legacy: LegacySessionsOptions): Promise<string> {
  const sessions = session(new SessionLayer({ store, cookie: { maxAge: 3600 }, legacy: legacySessions(legacy) }))
  const app = express()
  app.use(sessions)
  app.get(
    '/fields',
    sessions.route(async (req, res) => {
      res.json(Object.fromEntries((await req.session.getAll()) ?? []))
    }),
  )
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(error.status ?? 500).json({ code: error.code })
  }
  app.use(onError)
  const server = await listen(createServer(app))
  closers.push(server.close)
  return server.url
}

async function legacyLogin(url: string, remember = false): Promise<string> {
  const response = await fetch(`${url}/login${remember ? '?remember' : ''}`, { method: 'POST' })
  // express-session sends the headers before its store call ends and the body's last byte after it:
  // the session is stored once the body is complete.
  expect(await response.text()).toBe('ok')
  const line = response.headers.getSetCookie().find((each) => each.startsWith('connect.sid='))
  expect(line).toMatch(/^connect\.sid=s%3A[^;]+; Path=\/; .*HttpOnly/)
  return (line as string).slice(0, (line as string).indexOf(';'))
}

async function fields(url: string, cookie: string) {
  const response = await fetch(`${url}/fields`, { headers: { cookie } })
  const lines = response.headers.getSetCookie()
  const ruts = lines.find((line) => line.startsWith('session='))
  return { status: response.status, body: await response.json(), lines, ruts: ruts?.slice(0, ruts.indexOf(';')) }
}

async function expectMigration(legacyUrl: string, rutsUrl: string, legacy: LegacyStoreHandle): Promise<void> {
  const cookie = await legacyLogin(legacyUrl)
  const sid = decodeURIComponent(cookie).slice('connect.sid=s:'.length).split('.')[0] as string
  const first = await fields(rutsUrl, cookie)
  expect(first.status).toBe(200)
  expect(first.body).toEqual(stored)
  expect(first.ruts).toMatch(/^session=[A-Za-z0-9_-]{22}$/)
  expect(first.lines).toContain('connect.sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly')
  expect(await new Promise((resolve) => legacy.get(sid, (_, data) => resolve(data)))).toBeFalsy()
  const next = await fields(rutsUrl, first.ruts as string)
  expect(next).toMatchObject({ status: 200, body: stored, lines: [] })
  // The express-session cookie had no expiry: the layer's hour.
  expect(first.lines.find((line) => line.startsWith('session='))).toMatch(/; Max-Age=(3599|3600);/)

  // A remembered session keeps its 30 days, read from the expiry the legacy store kept as JSON.
  const remembered = await fields(rutsUrl, await legacyLogin(legacyUrl, true))
  expect(remembered.body).toEqual(stored)
  const maxAge = Number(
    /; Max-Age=(\d+);/.exec(remembered.lines.find((line) => line.startsWith('session=')) ?? '')?.[1],
  )
  expect(maxAge).toBeGreaterThan(REMEMBERED_DAYS * 86_400 - 60)
  expect(maxAge).toBeLessThanOrEqual(REMEMBERED_DAYS * 86_400)

  // Ten tabs sent the legacy cookie at once: every answer's cookie names a session with the data.
  const parallel = await legacyLogin(legacyUrl)
  const answers = await Promise.all(Array.from({ length: 10 }, () => fields(rutsUrl, parallel)))
  for (const answer of answers) {
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(stored)
    expect((await fields(rutsUrl, answer.ruts as string)).body).toEqual(stored)
  }
}

describe.skipIf(redisSkip)('express-session + connect-redis 9 (node-redis) → ruts RedisStore', () => {
  it('picks up sessions the express-session app created, field by field', async () => {
    if (!redis.available) throw new Error(redis.reason)
    const client = createClient({ socket: redis.standalone })
    await client.connect()
    closers.push(() => client.close())
    const legacy = new ConnectRedisStore({ client, prefix: `sess-${randomBytes(4).toString('hex')}:` })
    const legacyUrl = await legacyApp(legacy)
    const rutsUrl = await rutsApp(new RedisStore({ client, prefix: `ruts-${randomBytes(4).toString('hex')}:` }), {
      store: legacy,
      secret: SECRET,
    })
    await expectMigration(legacyUrl, rutsUrl, legacy)
  })
})

describe.skipIf(postgresSkip)('express-session + connect-pg-simple → ruts PostgresStore', () => {
  const pgStore = (pool: pg.Pool, tableName: string) => {
    const store = new (connectPgSimple(expressSession))({ pool, tableName, pruneSessionInterval: false })
    closers.push(async () => store.close())
    return store
  }
  const legacyTable = async (pool: pg.Pool) => {
    const table = uniqueTable('legacy')
    await pool.query(
      `CREATE TABLE "${table}" (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`,
    )
    return table
  }

  it('picks up sessions the express-session app created, field by field', async () => {
    const pool = testPool()
    const legacy = pgStore(pool, await legacyTable(pool))
    const legacyUrl = await legacyApp(legacy)
    const store = await PostgresStore.create({ pool, table: uniqueTable(), cleanupInterval: 0 })
    closers.push(() => store.close())
    await expectMigration(legacyUrl, await rutsApp(store, { store: legacy, secret: SECRET }), legacy)
  })

  it('answers 503 when the legacy database hangs or is down, and loses nothing', async () => {
    if (!postgres.available) throw new Error(postgres.reason)
    const pool = testPool()
    const table = await legacyTable(pool)
    const legacyUrl = await legacyApp(pgStore(pool, table))
    const proxy = await startProxy(postgres.host, postgres.port)
    const proxied = testPool({ port: proxy.port, connectionTimeoutMillis: 500 })
    const store = await PostgresStore.create({ pool, table: uniqueTable(), cleanupInterval: 0 })
    closers.push(() => store.close())
    const rutsUrl = await rutsApp(store, { store: pgStore(proxied, table), secret: SECRET, timeout: 300 })
    const cookie = await legacyLogin(legacyUrl)

    proxy.setMode('blackhole')
    const hung = await fields(rutsUrl, cookie)
    expect(hung).toMatchObject({ status: 503, body: { code: 'ERR_SESSION_STORE_TIMEOUT' }, ruts: undefined })
    await proxy.down()
    const down = await fields(rutsUrl, cookie)
    expect(down).toMatchObject({ status: 503, body: { code: 'ERR_SESSION_STORE' }, ruts: undefined })
    const { rows } = await pool.query(`SELECT sess FROM "${table}"`)
    expect(rows).toHaveLength(1)
    expect(rows[0].sess).toMatchObject(stored)
  })
})
