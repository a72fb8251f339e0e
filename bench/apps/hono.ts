import type { Context } from 'hono'
import { Hono } from 'hono'
import { CookieStore, MemoryStore, type Session as PeerSession, sessionMiddleware } from 'hono-sessions'
import type { Session } from 'ruts'
import type { Variant } from '../contenders.js'
import { routeOf, runRoute, SECRET, SESSION_MAX_AGE, type SessionOps } from './shared.js'
import { rutsLayer, rutsStoreOf } from './stores.js'

// The session object each library puts on the context under the same key.
type Variables = { session: Session & PeerSession<Record<string, unknown>> }
type HonoContext = Context<{ Variables: Variables }>

const rutsOps: SessionOps<HonoContext> = {
  get: (context, field) => context.get('session').get(field),
  set: (context, field, value) => context.get('session').update(field, value),
}

const peerOps: SessionOps<HonoContext> = {
  get: (context, field) => (context.get('session') as PeerSession<Record<string, unknown>>).get(field),
  set: (context, field, value) => (context.get('session') as PeerSession<Record<string, unknown>>).set(field, value),
}

/** A Hono 4 app for one variant (served by @hono/node-server in the child). */
export async function honoApp(variant: Variant): Promise<Hono<{ Variables: Variables }>> {
  const app = new Hono<{ Variables: Variables }>()
  let ops: SessionOps<HonoContext> | undefined
  if (variant.startsWith('ruts-')) {
    const { session } = await import('ruts/hono')
    app.use(session(await rutsLayer(rutsStoreOf(variant))) as never)
    ops = rutsOps
  } else if (variant === 'peer-memory' || variant === 'peer-cookie') {
    // hono-sessions' README setup; its encryptionKey plays the part of the other libraries' secret.
    app.use(
      sessionMiddleware({
        store: variant === 'peer-memory' ? new MemoryStore() : new CookieStore(),
        encryptionKey: SECRET,
        expireAfterSeconds: SESSION_MAX_AGE,
        cookieOptions: { path: '/', httpOnly: true, sameSite: 'Lax', maxAge: SESSION_MAX_AGE },
      }) as never,
    )
    ops = peerOps
  }
  app.get('*', async (context) => {
    const { route, query } = routeOf(context.req.url)
    return context.text(await runRoute(route, query, ops, context as HonoContext))
  })
  return app
}
