/**
 * The framework-neutral core: {@link SessionLayer} opens one {@link Session} per request over a
 * {@link SessionStore}; {@link MemoryStore} is the embedded store. Adapters live in `ruts/express`,
 * `ruts/fastify`, `ruts/hono`, `ruts/koa` and `ruts/web`, stores in `ruts/redis`, `ruts/postgres`
 * and `ruts/layered`.
 *
 * @module ruts
 */
// The layered store's `strategy` and `hotTtl` are part of SessionWriteOptions for every program, as
// before they moved out of the core (the file only merges them into the type).
import './stores/layered/write-options.js'

export { type Codec, type CodecOption, jsonCodec, msgpackCodec } from './core/codec.js'
export { type CookieOptions, parseCookieHeader, type ResolvedCookieOptions } from './core/cookie.js'
export {
  SESSION_CHANNEL,
  type SessionEvent,
  type SessionEventName,
  STORE_CHANNEL,
  type StoreCallContext,
} from './core/diagnostics.js'
export {
  RedactedBackendError,
  SessionConfigError,
  SessionError,
  type SessionErrorCode,
  SessionStoreError,
} from './core/errors.js'
export { createSessionId, isSessionId, sessionKeyOf } from './core/ids.js'
export type { IntegerFormat } from './core/integers.js'
export {
  type RequestTransport,
  type ResponseState,
  SessionLayer,
  type SessionLayerOptions,
  type TransportSource,
} from './core/layer.js'
export type { LegacyFields, LegacySession, LegacySessionSource } from './core/legacy.js'
export type {
  FieldSchemas,
  FieldSchemasFor,
  InvalidFieldHandler,
  StandardSchemaV1,
} from './core/schema.js'
export { type IntegerField, type OutgoingCookie, Session, type SessionCookies } from './core/session.js'
export { SessionMap } from './core/session-map.js'
export {
  type BindOptions,
  type BindResult,
  type ExpireResult,
  type FieldRead,
  type FieldValue,
  type IncrementOptions,
  type IncrementResult,
  type LiveSession,
  type NoSession,
  type PlacementOptions,
  type ReadOptions,
  type RemoveResult,
  type RenameResult,
  type RevokeTarget,
  type SessionKey,
  type SessionRead,
  type SessionStore,
  STORE_CAPABILITIES,
  STORE_LIMITS,
  type StoreCapability,
  type StoreLimit,
  type SubjectRead,
  type SubjectSession,
  storeEnforces,
  storeSupports,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from './core/store.js'
export type { SubjectSessions } from './core/subject-sessions.js'
export {
  checkBindOptions,
  type JsonValue,
  MAX_META_BYTES,
  MAX_SUBJECT_LENGTH,
  type SessionInfo,
  type SessionMeta,
} from './core/subject-values.js'
export { DEFAULT_STORE_TIMEOUT, runWithTimeout } from './core/timeout.js'
export { checkExpireSeconds, checkWriteTtls, MAX_TTL } from './core/ttl.js'
export type { SessionWriteOptions, StoreWriteOptions } from './core/write-options.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
