import type { WriteOptions } from '../../src/core/store.js'

/**
 * Store-level write options for tests that call a store directly.
 *
 * @param session - create a session, or write into an existing one
 * @param ttl - field TTL in seconds (and the session's, unless `sessionTtl` is given)
 * @param sessionTtl - session TTL in seconds
 * @returns an `update` write
 */
export function writeOptionsFor(session: WriteOptions['session'], ttl: number, sessionTtl = ttl): WriteOptions {
  return { mode: 'update', session, fieldTtl: ttl, sessionTtl }
}
