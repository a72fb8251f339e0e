import { createHash } from 'node:crypto'
import { SessionError } from './errors.js'
import type { BindOptions, SessionKey } from './store.js'
import { isTtl, ttlError } from './ttl.js'

/** Longest subject, in characters (Unicode code points; SPEC §13: any string of 1–256 characters). */
export const MAX_SUBJECT_LENGTH = 256
/** Largest session metadata, in bytes of its JSON text (UTF-8). */
export const MAX_META_BYTES = 1024

/** A value JSON can carry unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A session's metadata as {@link SessionInfo} returns it: the JSON object given to `setSubject`. */
export type SessionMeta = { [key: string]: JsonValue }

/**
 * One live session of a subject, as `layer.sessions.list()` and `session.listSiblings()` return it.
 *
 * @example
 * ```ts
 * for (const info of await layer.sessions.list('user:42')) {
 *   console.log(info.meta.device, info.lastActiveAt.toISOString(), info.current ? '(this device)' : '')
 * }
 * ```
 */
export interface SessionInfo {
  /**
   * Identifies the session in this list and for `layer.sessions.revoke()`. Derived one-way from the
   * store key (itself a one-way hash of the id): it can be shown in a page or a URL and can never
   * be turned into a cookie. It changes when the session's id changes (login, `regenerate()`).
   */
  handle: string
  /** The subject it is bound to. */
  subject: string
  /** When it was created (store clock). */
  createdAt: Date
  /** When a write, a bind or a lifetime refresh last reached it (store clock); the list is newest first. */
  lastActiveAt: Date
  /** When it expires unless it is used again (store clock). */
  expiresAt: Date
  /** The metadata given to `setSubject` (`{}` when none). */
  meta: SessionMeta
  /** Whether it is the session of the request that asked (`{ current: session }`, `listSiblings()`). */
  current: boolean
}

/**
 * @param subject - what a caller passed as a subject
 * @throws SessionError `ERR_SESSION_ARGUMENT` unless it is a string of 1–256 characters, well-formed
 *   Unicode without NUL (the message never repeats the subject: it is usually a user id)
 */
export function checkSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length === 0 || codePoints(subject) > MAX_SUBJECT_LENGTH) {
    throw new SessionError(
      'ERR_SESSION_ARGUMENT',
      `a subject must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`,
    )
  }
  // As for field names: Redis and Postgres would store a lone surrogate as U+FFFD, making distinct
  // subjects one (one user's revokeAll ending another's sessions), and Postgres cannot store NUL.
  if (subject.includes('\0') || !subject.isWellFormed()) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'a subject must be well-formed Unicode without NUL')
  }
}

/** Characters in a string: code points, counting each surrogate pair once (cheap for short strings). */
function codePoints(text: string): number {
  if (text.length <= MAX_SUBJECT_LENGTH) return text.length
  if (text.length > 2 * MAX_SUBJECT_LENGTH) return text.length
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) i++
    count++
  }
  return count
}

/**
 * Check a session's metadata and encode it as the JSON text stores keep.
 *
 * @param meta - a plain object of JSON values; properties whose value is `undefined` are left out,
 *   as `JSON.stringify` does
 * @returns its JSON text, at most {@link MAX_META_BYTES} bytes
 * @throws SessionError `ERR_SESSION_VALUE` for anything else (not a plain object, a value JSON cannot
 *   carry unchanged such as a `Date`, `NaN` or a `bigint`, a cycle, or more than 1 KB)
 */
export function encodeMeta(meta: unknown): string {
  if (!isPlainObject(meta)) throw metaError('must be a plain object')
  // Each JSON value costs at least one byte, so a walk that meets more values than the limit has
  // bytes can stop: the text would be too large anyway (and a cycle never ends otherwise).
  const budget = { left: MAX_META_BYTES }
  let text: string
  try {
    const problem = jsonProblem(meta, budget)
    if (problem !== undefined) throw metaError(problem)
    text = JSON.stringify(meta)
  } catch (error) {
    if (error instanceof SessionError) throw error
    // A getter that throws, a revoked Proxy: the caller's error is not kept (it may quote the meta).
    throw metaError('cannot be read')
  }
  if (Buffer.byteLength(text) > MAX_META_BYTES) throw metaError(`must be at most ${MAX_META_BYTES} bytes as JSON`)
  return text
}

/**
 * @param text - the JSON text a store returned
 * @returns the metadata object; `{}` for text that is not a JSON object (a store written by hand)
 */
export function decodeMeta(text: string | undefined): SessionMeta {
  if (text === undefined) return {}
  try {
    const value: unknown = JSON.parse(text)
    return isPlainObject(value) ? (value as SessionMeta) : {}
  } catch {
    return {}
  }
}

const HANDLE_DOMAIN = 'ruts:subject-handle:'

/**
 * The handle of a session in a subject's list: base64url SHA-256 over a fixed domain and the store
 * key. The key is already a one-way hash of the id, and the domain keeps the handle from being any
 * other value ruts computes, so a handle leads neither to a cookie nor to a store key.
 *
 * @param key - the session's store key
 * @returns a 43-character handle
 */
export function handleOf(key: SessionKey): string {
  return createHash('sha256').update(HANDLE_DOMAIN).update(key).digest('base64url')
}

/** @returns whether `value` can be a handle {@link handleOf} made (43 base64url characters) */
export function isHandle(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value)
}

/**
 * The rules of {@link BindOptions}, for a store to check before any backend call: the subject is
 * 1–256 characters, `meta` at most 1 KB of JSON text, lifetimes whole seconds up to 400 days,
 * `maxSessions` a whole number ≥ 1.
 *
 * @param options - the bind's options
 * @throws SessionError `ERR_SESSION_ARGUMENT` (or `ERR_SESSION_VALUE` for `meta`) when one is out of range
 */
export function checkBindOptions(options: BindOptions): void {
  checkSubject(options.subject)
  if (typeof options.meta !== 'string' || Buffer.byteLength(options.meta) > MAX_META_BYTES) {
    throw metaError(`must be JSON text of at most ${MAX_META_BYTES} bytes`)
  }
  const { sessionTtl, maxLifetime, maxSessions } = options
  if (!isTtl(sessionTtl) || (maxLifetime !== undefined && !isTtl(maxLifetime))) throw ttlError('bind lifetimes')
  if (maxSessions !== undefined && !(Number.isSafeInteger(maxSessions) && maxSessions >= 1)) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'maxSessions must be a whole number ≥ 1')
  }
}

function metaError(problem: string): SessionError {
  return new SessionError('ERR_SESSION_VALUE', `session meta ${problem}`)
}

/** What keeps `value` from being JSON that round-trips, or `undefined` when nothing does. */
function jsonProblem(value: unknown, budget: { left: number }): string | undefined {
  if (--budget.left < 0) return `must be at most ${MAX_META_BYTES} bytes as JSON`
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'holds a number JSON cannot carry'
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = item === undefined ? 'holds undefined in an array' : jsonProblem(item, budget)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (!isPlainObject(value)) return `holds a ${typeof value === 'object' ? 'non-plain object' : typeof value}`
  for (const item of Object.values(value)) {
    if (item === undefined) continue
    const problem = jsonProblem(item, budget)
    if (problem !== undefined) return problem
  }
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
