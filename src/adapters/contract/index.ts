/**
 * The contract a framework adapter is written against: open a {@link Session} from the request's
 * `Cookie` header and transport ({@link SessionLayer.open}), let the handler use it, then, when the
 * response headers are about to go out, {@link Session.commit} it for the `Set-Cookie` value (or
 * {@link Session.seal} it when the handler never touched it or the headers already left). The
 * bundled adapters (`ruts/express`, `ruts/fastify`, `ruts/h3`, `ruts/hono`, `ruts/koa`, `ruts/next`, `ruts/sveltekit`,
 * `ruts/web`) import
 * only from here and from their framework; run yours through `describeAdapterBehaviour` from
 * `ruts/testing`. See docs/adapters.md, "Writing an adapter".
 *
 * @module ruts/adapter
 */
export { parseCookieHeader } from '../../core/cookie.js'
export { SessionConfigError, SessionError, SessionStoreError } from '../../core/errors.js'
export type { RequestTransport, ResponseState, SessionLayer, TransportSource } from '../../core/layer.js'
export type { OutgoingCookie, Session, SessionCookies } from '../../core/session.js'
// An adapter's own options are checked like every other options object (unknown keys, wrong types).
export { type Check, checkOptions, checks } from '../../core/validate.js'
export { type CommittableSession, commitTouched, failsClosed } from './commit.js'
export { checkLayer } from './layer-check.js'
export { deferHeadersUntilCommitted, responseCommitted } from './node-headers.js'
export { appendSetCookie, applySessionCookie, withSessionCookie } from './set-cookie.js'
export { serviceUnavailable } from './store-failure.js'
export { nodeTransport, webTransport } from './transport.js'
