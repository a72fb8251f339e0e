import fastifyCookie from '@fastify/cookie'
import fastifySessionPeer from '@fastify/session'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Session } from 'ruts'
import type { Variant } from '../contenders.js'
import { routeOf, runRoute, SECRET, SESSION_MAX_AGE, type SessionOps } from './shared.js'
import { nodeRedisClient, pgSimpleStore, rutsLayer, rutsStoreOf } from './stores.js'

type WithRuts = { session: Session }
type WithPeer = { session: { get(key: string): unknown; set(key: string, value: unknown): void } }

const rutsOps: SessionOps<FastifyRequest> = {
  get: (request, field) => (request as unknown as WithRuts).session.get(field),
  set: (request, field, value) => (request as unknown as WithRuts).session.update(field, value),
}

const peerOps: SessionOps<FastifyRequest> = {
  get: (request, field) => (request as unknown as WithPeer).session.get(field),
  set: (request, field, value) => (request as unknown as WithPeer).session.set(field, value),
}

/** A Fastify 5 app for one variant; the child calls `listen`. */
export async function fastifyApp(variant: Variant): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  let ops: SessionOps<FastifyRequest> | undefined
  if (variant.startsWith('ruts-')) {
    const { fastifySession } = await import('ruts/fastify')
    await app.register(fastifySession as never, { layer: await rutsLayer(rutsStoreOf(variant)) })
    ops = rutsOps
  } else if (variant === 'peer-memory' || variant === 'peer-redis' || variant === 'peer-postgres') {
    const store =
      variant === 'peer-redis'
        ? new ConnectRedisStore({ client: await nodeRedisClient() })
        : variant === 'peer-postgres'
          ? await pgSimpleStore()
          : undefined
    await app.register(fastifyCookie)
    await app.register(fastifySessionPeer, {
      secret: SECRET,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: SESSION_MAX_AGE * 1000 },
      ...(store === undefined ? {} : { store: store as never }),
    })
    ops = peerOps
  }
  app.get('/*', async (request, reply) => {
    const { route, query } = routeOf(request.url)
    reply.type('text/plain; charset=utf-8')
    return runRoute(route, query, ops, request)
  })
  return app
}
