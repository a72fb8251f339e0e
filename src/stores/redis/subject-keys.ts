import { createHash } from 'node:crypto'

/**
 * Key names of subjects (SPEC §13). A subject's index is named by a hash of the subject, never the
 * subject itself: a user id in a key name would show in MONITOR, SLOWLOG, key scans and keyspace
 * notifications. The hash is in the hash tag, so the whole index is one Cluster slot.
 */

/**
 * The Redis key of a subject's index.
 *
 * @param prefix - the store's key prefix
 * @param subject - the subject
 * @returns `<prefix>subject:{<base64url SHA-256 of the subject>}`
 */
export function subjectIndexKey(prefix: string, subject: string): string {
  return `${prefix}subject:{${createHash('sha256').update(subject).digest('base64url')}}`
}

/**
 * The store key inside a session's Redis key (what an index holds).
 *
 * @param redisKey - `<prefix>{<key>}`
 * @returns `<key>`
 */
export function memberOf(redisKey: string): string {
  return redisKey.slice(redisKey.lastIndexOf('{') + 1, -1)
}
