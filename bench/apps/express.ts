import { RedisStore as ConnectRedisStore } from 'connect-redis'
import express, { type Request } from 'express'
import expressSession from 'express-session'
import type { Session } from 'ruts'
import { session } from 'ruts/express'
import type { Variant } from '../contenders.js'
import { routeOf, runRoute, SECRET, SESSION_MAX_AGE, type SessionOps } from './shared.js'
import { nodeRedisClient, pgSimpleStore, rutsLayer, rutsStoreOf } from './stores.js'

type WithRuts = Request & { session: Session }
type WithPeer = Request & { session: Record<string, unknown> }

const rutsOps: SessionOps<Request> = {
  get: (request, field) => (request as WithRuts).session.get(field),
  set: (request, field, value) => (request as WithRuts).session.update(field, value),
}

const peerOps: SessionOps<Request> = {
  get: (request, field) => (request as unknown as WithPeer).session[field],
  set: (request, field, value) => {
    ;(request as unknown as WithPeer).session[field] = value
  },
}

/** An Express 5 app for one variant; every route is served by the shared `runRoute`. */
export async function expressApp(variant: Variant): Promise<express.Express> {
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  let ops: SessionOps<Request> | undefined
  if (variant.startsWith('ruts-')) {
    app.use(session(await rutsLayer(rutsStoreOf(variant))))
    ops = rutsOps
  } else if (variant === 'peer-memory' || variant === 'peer-redis' || variant === 'peer-postgres') {
    // express-session's documented production setup: no resave, no empty sessions.
    const store =
      variant === 'peer-redis'
        ? new ConnectRedisStore({ client: await nodeRedisClient() })
        : variant === 'peer-postgres'
          ? await pgSimpleStore()
          : undefined
    app.use(
      expressSession({
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: SESSION_MAX_AGE * 1000 },
        ...(store === undefined ? {} : { store }),
      }),
    )
    ops = peerOps
  }
  app.get('/{*path}', (request, response, next) => {
    const { route, query } = routeOf(request.url)
    runRoute(route, query, ops, request).then((body) => response.type('text').send(body), next)
  })
  return app
}
