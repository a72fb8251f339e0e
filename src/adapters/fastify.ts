/**
 * Fastify 5 plugin: `request.session`, the cookie added in `onSend`.
 *
 * @module ruts/fastify
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify'
import {
  appendSetCookie,
  type Check,
  type CommittableSession,
  checkOptions,
  checks,
  failsClosed,
  type ResponseState,
  type Session,
  type SessionLayer,
  type TransportSource,
} from './contract/index.js'
import { missingMiddleware } from './contract/layer-check.js'

/** Options of {@link fastifySession}. */
export interface FastifySessionOptions {
  /**
   * The session layer whose sessions this plugin opens: any `SessionLayer<Data>` (typed here by the
   * one method the plugin calls, so every `Data` fits; {@link sessionRoute} types the handlers).
   */
  layer: {
    open(cookieHeader: string | undefined, transport: TransportSource, response: ResponseState): CommittableSession
  }
}

/** A Fastify request after {@link fastifySession} ran: `request.session` is typed by the layer's `Data`. */
export type SessionRequest<
  Data extends object = Record<string, unknown>,
  Route extends RouteGenericInterface = RouteGenericInterface,
> = FastifyRequest<Route> & { session: Session<Data> }

const isLayer = ((value) =>
  typeof (value as FastifySessionOptions['layer'] | undefined)?.open === 'function'
    ? undefined
    : 'must be a SessionLayer: fastify.register(fastifySession, { layer })') as Check

const FASTIFY_OPTIONS = {
  layer: checks.required(isLayer),
  // Fastify's own register options reach the plugin too.
  prefix: checks.string,
  logLevel: checks.string,
  logSerializers: checks.object,
} satisfies Record<keyof FastifySessionOptions | 'prefix' | 'logLevel' | 'logSerializers', Check>

/**
 * Per request, once its first `onSend` ran: the commit, or `SEALED` when the session was only sealed.
 * Fastify runs `onSend` again for an error reply, and when an async handler calls `reply.send()` and
 * then resolves `undefined` (Fastify sends again while the first send waits for the commit).
 */
const commits = new WeakMap<FastifyRequest, Promise<unknown> | typeof SEALED>()
const SEALED = Symbol('sealed')

/**
 * The reply as the session handle sees it: a hijacked reply bypasses onSend, so no cookie can go out
 * with it; hijacking seals the handle, as the headers going out would. A class, so that a request
 * costs one small object and no closure.
 */
class ReplyState implements ResponseState {
  readonly #reply: FastifyReply

  constructor(reply: FastifyReply) {
    this.#reply = reply
  }

  get headersSent(): boolean {
    return this.#reply.sent || this.#reply.raw.headersSent
  }
}

/**
 * Continue Fastify's send from a promise callback, where nothing above would catch what `done`
 * throws (it writes the reply): that would end the process. A second send whose first already wrote
 * the reply throws (headers already sent), and what it tried again is moot; anything else (a header
 * Node refuses) fails this reply, which is closed and logged rather than left hanging.
 */
function proceed(
  reply: FastifyReply,
  done: (error: Error | null, payload?: unknown) => void,
  error: Error | null,
  payload?: unknown,
): void {
  const written = reply.raw.headersSent
  try {
    done(error, payload)
  } catch (thrown) {
    if (written) return
    reply.log.error({ err: thrown }, 'ruts: the reply could not be written')
    reply.raw.destroy()
  }
}

async function rutsSessionPlugin(fastify: FastifyInstance, options: FastifySessionOptions): Promise<void> {
  checkOptions('fastifySession', options, FASTIFY_OPTIONS)
  const layer = options.layer
  fastify.decorateRequest('session', null)
  // Callback-style hooks: an untouched session passes through both without allocating a promise.
  fastify.addHook('onRequest', function rutsOpenSession(request, reply, done) {
    const transport = () => ({ protocol: request.protocol, hostname: request.hostname })
    const response = new ReplyState(reply)
    ;(request as { session?: CommittableSession }).session = layer.open(request.headers.cookie, transport, response)
    done()
  })
  // onSend runs for every reply (JSON, strings, streams, redirects, errors) after the handler and
  // before the headers are written, so the cookie can be decided here without patching `reply.raw`.
  fastify.addHook('onSend', function rutsCommitSession(request, reply, payload, done) {
    const session = (request as { session?: CommittableSession | null }).session
    if (session == null) return done(null, payload)
    const earlier = commits.get(request)
    if (earlier === SEALED) return done(null, payload)
    if (earlier !== undefined) {
      // Not before the first send's commit: whichever send writes the reply, the cookie is on it.
      const pass = () => proceed(reply, done, null, payload)
      earlier.then(pass, pass)
      return
    }
    if (reply.raw.headersSent || !session.active || failsClosed(session, reply.statusCode)) {
      commits.set(request, SEALED)
      session.seal()
      return done(null, payload)
    }
    const commit = session.commit()
    commits.set(request, commit)
    commit.then(
      (cookie) => {
        if (cookie !== undefined) addCookie(reply, cookie)
        proceed(reply, done, null, payload)
      },
      (error: Error) => {
        dropHeaders(reply)
        proceed(reply, done, error)
      },
    )
  })
}

/**
 * Before a failed commit goes to Fastify's error path: none of the handler's headers (its cookies,
 * a public `Cache-Control`) may go out with the 503, which Fastify's error handler builds on the same
 * reply. `no-store` keeps caches from holding it.
 */
function dropHeaders(reply: FastifyReply): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
  for (const name of reply.raw.getHeaderNames()) reply.raw.removeHeader(name)
  reply.header('cache-control', 'no-store')
}

function addCookie(reply: FastifyReply, cookie: string | readonly string[]): void {
  const existing = reply.getHeader('set-cookie')
  if (existing === undefined) {
    reply.header('set-cookie', typeof cookie === 'string' ? cookie : [...cookie])
  } else {
    // `reply.header('set-cookie', …)` appends to Fastify's own list; rebuilding it from getHeader
    // (which also sees `reply.raw.setHeader`) keeps every cookie exactly once.
    reply.removeHeader('set-cookie').header('set-cookie', appendSetCookie(existing, cookie))
  }
  reply.header('cache-control', 'no-store')
}
// fastify-plugin's convention without the dependency: decorate and hook the parent scope, so
// `request.session` is there in every route registered after the plugin.
// plugin-meta makes Fastify itself reject an unsupported major with a clear message.
Object.assign(rutsSessionPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'ruts',
  [Symbol.for('plugin-meta')]: { name: 'ruts', fastify: '5.x' },
})

/**
 * Fastify 5 plugin: puts the request's {@link Session} on `request.session` and adds the session
 * cookie in `onSend`, after the session's pending writes settle. Store failures reach Fastify's error
 * path as `SessionStoreError` (`statusCode` 503).
 *
 * `request.session` is typed without declaration merging through {@link sessionRoute}, which takes
 * the layer for its `Data` type.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { SessionLayer, MemoryStore } from 'ruts'
 * import { fastifySession, sessionRoute } from 'ruts/fastify'
 *
 * const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
 * const app = Fastify()
 * await app.register(fastifySession, { layer })
 * app.get('/', sessionRoute(layer, async (request) => {
 *   const count = ((await request.session.get('count')) ?? 0) + 1
 *   await request.session.update('count', count)
 *   return { count }
 * }))
 * ```
 */
export const fastifySession: FastifyPluginAsync<FastifySessionOptions> = rutsSessionPlugin

/**
 * Type a route handler's `request.session` by the layer's `Data` (and the route's generics), without
 * declaration merging. The handler runs as is, after a check that the plugin put a session on the
 * request (a `SessionConfigError` naming the fix, not a `TypeError`, when it was not registered).
 *
 * @param layer - the layer registered with {@link fastifySession}; used only for its type
 * @param handler - the route handler
 * @returns a Fastify route handler
 *
 * @example
 * ```ts
 * app.get<{ Params: { id: string } }>('/items/:id', sessionRoute(layer, async (request) => {
 *   return { id: request.params.id, count: await request.session.get('count') }
 * }))
 * ```
 */
export function sessionRoute<Data extends object, Route extends RouteGenericInterface = RouteGenericInterface>(
  layer: SessionLayer<Data>,
  handler: (this: FastifyInstance, request: SessionRequest<Data, Route>, reply: FastifyReply<Route>) => unknown,
): RouteHandlerMethod<FastifyInstance['server'], FastifyRequest['raw'], FastifyReply['raw'], Route> {
  void layer
  function rutsSessionRoute(
    this: FastifyInstance,
    request: FastifyRequest<Route>,
    reply: FastifyReply<Route>,
  ): unknown {
    if ((request as { session?: unknown }).session == null) {
      throw missingMiddleware('request.session', 'await app.register(fastifySession, { layer }) before this route')
    }
    return handler.call(this, request as SessionRequest<Data, Route>, reply)
  }
  return rutsSessionRoute as RouteHandlerMethod<
    FastifyInstance['server'],
    FastifyRequest['raw'],
    FastifyReply['raw'],
    Route
  >
}
