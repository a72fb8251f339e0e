import { createServer } from 'node:http'
import express, { type ErrorRequestHandler } from 'express'
import { session } from '../../src/adapters/express.js'
import { SessionLayer, type SessionLayerOptions } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { RunningServer } from '../../src/testing/adapter-suite.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { listen } from '../helpers/listen.js'
import { skipReason as postgresSkip, testPool, testStore } from '../postgres/helpers.js'
import { clientKinds, skipReason as redisSkip, storeFor } from '../redis/clients.js'

/** A RedisStore over a fresh client of one kind; closing the store closes that client. */
function redisStore(kindName: string): () => Promise<SessionStore> {
  return async () => {
    const kind = clientKinds.find((each) => each.name === kindName)
    if (kind === undefined) throw new Error(`no client kind ${kindName}`)
    const connected = await kind.connect()
    const store = storeFor(connected.client)
    store.close = () => connected.close()
    return store
  }
}

/** The stores the subject API is tested on through HTTP. */
export const subjectStores: {
  name: string
  create: () => SessionStore | Promise<SessionStore>
  skip?: string | undefined
}[] = [
  { name: 'MemoryStore', create: () => new MemoryStore() },
  { name: 'PostgresStore', create: () => testStore({ pool: testPool({ max: 5 }) }), skip: postgresSkip },
  { name: 'LayeredStore (Redis over Postgres)', create: redisOverPostgres, skip: postgresSkip ?? redisSkip },
  ...['ioredis standalone', 'node-redis Cluster'].map((kind) => ({
    name: `RedisStore (${kind})`,
    create: redisStore(kind),
    skip: redisSkip,
  })),
]

/** A LayeredStore on its own Redis connection, which its `close()` ends too. */
async function redisOverPostgres(): Promise<SessionStore> {
  const kind = clientKinds.find((each) => each.name === 'ioredis standalone')
  if (kind === undefined) throw new Error('no ioredis client kind')
  const client = await kind.connect()
  const cold = await testStore({ pool: testPool({ max: 5 }) })
  // A generous hot timeout: a login moves the hot copy and fails closed when hot is slower than it, which
  // a loaded test machine must not provoke.
  const store = new LayeredStore({ hot: storeFor(client.client), cold, hotTimeout: 2_000 })
  const close = store.close.bind(store)
  return Object.assign(store, {
    close: async () => {
      await close()
      await client.close()
    },
  })
}

type Data = { visits: number }

/** An app with a login and a "your devices" page, as a user of the subject API writes it. */
export interface SubjectApp extends RunningServer {
  layer: SessionLayer<Data>
  /** A browser stand-in with its own cookie jar. */
  client: () => CookieClient
}

/**
 * Routes (all GET, JSON): `/visit` counts, `/login?user=&device=` binds, `/whoami`, `/devices`
 * (listSiblings), `/list` (layer.sessions.list with current), `/revoke?handle=` (of the caller's
 * subject), `/revoke-others`, `/revoke-all`, `/logout`.
 *
 * @param store - the store
 * @param options - more layer options (`maxSessionsPerSubject`)
 * @returns the running app
 */
export async function startSubjectApp(
  store: SessionStore,
  options: Partial<SessionLayerOptions<Data>> = {},
): Promise<SubjectApp> {
  const layer = new SessionLayer<Data>({ store, cookie: { maxAge: 600, secure: false }, ...options })
  const sessions = session(layer)
  const app = express()
  app.use(sessions)
  const subjectOf = async (req: { session: { getSubject(): Promise<string | undefined> } }) => {
    const subject = await req.session.getSubject()
    if (subject === undefined) throw Object.assign(new Error('not logged in'), { status: 401 })
    return subject
  }
  app.get(
    '/visit',
    sessions.route(async (req, res) => {
      res.json({ visits: await req.session.increment('visits') })
    }),
  )
  app.get(
    '/login',
    sessions.route(async (req, res) => {
      await req.session.setSubject(`user:${String(req.query.user)}`, { meta: { device: String(req.query.device) } })
      res.json({ subject: await req.session.getSubject() })
    }),
  )
  app.get(
    '/whoami',
    sessions.route(async (req, res) => {
      res.json({ subject: (await req.session.getSubject()) ?? null, visits: (await req.session.get('visits')) ?? 0 })
    }),
  )
  app.get(
    '/devices',
    sessions.route(async (req, res) => {
      res.json(await req.session.listSiblings())
    }),
  )
  app.get(
    '/list',
    sessions.route(async (req, res) => {
      res.json(await layer.sessions.list(await subjectOf(req), { current: req.session }))
    }),
  )
  app.get(
    '/revoke',
    sessions.route(async (req, res) => {
      res.json({ revoked: await layer.sessions.revoke(await subjectOf(req), String(req.query.handle)) })
    }),
  )
  app.get(
    '/revoke-others',
    sessions.route(async (req, res) => {
      res.json({ ended: await req.session.revokeOthers() })
    }),
  )
  app.get(
    '/revoke-all',
    sessions.route(async (req, res) => {
      res.json({ ended: await layer.sessions.revokeAll(await subjectOf(req)) })
    }),
  )
  app.get(
    '/logout',
    sessions.route(async (req, res) => {
      res.json({ deleted: await req.session.delete() })
    }),
  )
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status((error as { status?: number }).status ?? 500).json({ code: (error as { code?: string }).code ?? null })
  }
  app.use(onError)
  const running = await listen(createServer(app))
  return { ...running, layer, client: () => new CookieClient(running.url) }
}
