import type { WriteOptions } from '../../src/core/store.js'

/**
 * Store-level write options for tests that call a store directly.
 *
 * @param session - create a session, or write into an existing one
 * @param ttl - field and session TTL in seconds
 * @returns an `update` write
 */
export function writeOptionsFor(session: WriteOptions['session'], ttl: number): WriteOptions {
  return { mode: 'update', session, fieldTtl: ttl, sessionTtl: ttl }
}
