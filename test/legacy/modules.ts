import { createRequire } from 'node:module'
import type { RequestHandler } from 'express'
import type { ExpressSessionStore } from '../../src/legacy/express-session.js'

// express-session, connect-redis and connect-pg-simple are loaded without their type declarations:
// @types/express-session merges a `session` property into every Express Request, which would clash
// with ruts' own typed `req.session` everywhere this project is type-checked. These few shapes are
// all the tests use.
const require = createRequire(import.meta.url)

/** The express-session store methods the tests call besides get/destroy. */
export interface LegacyStoreHandle extends ExpressSessionStore {
  set(sid: string, session: object, callback: (error?: unknown) => void): unknown
}

/** The express-session factory, with its own in-memory store class. */
export interface ExpressSessionModule {
  (options: {
    store?: LegacyStoreHandle
    secret: string | string[]
    name?: string
    resave: boolean
    saveUninitialized: boolean
    cookie?: { maxAge?: number; path?: string; secure?: boolean }
  }): RequestHandler
  MemoryStore: new () => LegacyStoreHandle
}

/** express-session itself. */
export const expressSession = require('express-session') as ExpressSessionModule

/** connect-redis 9: `new RedisStore({ client, prefix? })` over a node-redis client. */
export const { RedisStore: ConnectRedisStore } = require('connect-redis') as {
  RedisStore: new (options: { client: unknown; prefix?: string }) => LegacyStoreHandle
}

/** connect-pg-simple: `new (connectPgSimple(expressSession))({ pool, tableName, createTableIfMissing })`. */
export const connectPgSimple = require('connect-pg-simple') as (
  module: ExpressSessionModule,
) => new (options: {
  pool: unknown
  tableName?: string
  createTableIfMissing?: boolean
  pruneSessionInterval?: number | false
}) => LegacyStoreHandle & { close(): Promise<void> | void }
