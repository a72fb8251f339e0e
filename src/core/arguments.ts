import { SessionError } from './errors.js'

/** Longest field name, in UTF-16 code units. */
export const MAX_FIELD_LENGTH = 1024

/** Per-call options of `insert` and `update`. */
export interface SessionWriteOptions {
  /** The field's TTL in whole seconds. @default the cookie `maxAge` */
  ttl?: number
  /** `LayeredStore` only: which tier(s) to write. @default 'write-through' */
  strategy?: 'write-through' | 'hot-only' | 'cold-only'
  /** `LayeredStore` only: shorter TTL for the hot copy, never above `ttl`. */
  hotTtl?: number
}

/**
 * Field names reach every backend unchanged, so only names every backend can hold are accepted:
 * Postgres `text` cannot store NUL, and Redis would mangle lone surrogates.
 *
 * @param field - a field name from the caller
 * @throws SessionError `ERR_SESSION_ARGUMENT`
 */
export function checkField(field: unknown): asserts field is string {
  if (typeof field !== 'string' || field.length === 0 || field.length > MAX_FIELD_LENGTH) {
    throw new SessionError('ERR_SESSION_ARGUMENT', `a field name is a string of 1 to ${MAX_FIELD_LENGTH} characters`)
  }
  if (field.includes('\0') || !field.isWellFormed()) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'a field name must be well-formed Unicode without NUL')
  }
}

/**
 * @param options - write options from the caller
 * @returns the layered-store options to pass through `WriteOptions.extra`, or `undefined`
 */
export function layeredOptions(options: SessionWriteOptions | undefined): Record<string, unknown> | undefined {
  if (options?.strategy === undefined && options?.hotTtl === undefined) return undefined
  const extra: Record<string, unknown> = {}
  if (options.strategy !== undefined) extra.strategy = options.strategy
  if (options.hotTtl !== undefined) extra.hotTtl = options.hotTtl
  return extra
}

/**
 * @param what - the call that came too late
 * @returns the `ERR_SESSION_HEADERS_SENT` error
 */
export function headersSent(what: string): SessionError {
  return new SessionError(
    'ERR_SESSION_HEADERS_SENT',
    `${what} after the response headers were sent cannot deliver its cookie; await session calls before responding`,
  )
}
