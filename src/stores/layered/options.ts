import { SessionConfigError } from '../../core/errors.js'
import type { SessionStore } from '../../core/store.js'
import type { HotErrorHandler } from './hot-tier.js'
import type { FieldPolicy } from './policies.js'

/** Options of {@link LayeredStore}. */
export interface LayeredStoreOptions {
  /** The fast, ephemeral cache (e.g. a `RedisStore` or a `MemoryStore`). */
  hot: SessionStore
  /** The durable source of truth (e.g. a `PostgresStore`). */
  cold: SessionStore
  /** Default TTL in seconds of hot copies (capped at each field's TTL). @default the field's TTL */
  hotTtl?: number
  /** Per-field defaults for writes that do not say, and for warming (a cold-only field is never warmed). @default {} */
  fields?: Readonly<Record<string, FieldPolicy>>
  /** Milliseconds a missing field or session is remembered in process memory; `0` disables. @default 1000 */
  missTtl?: number
  /** Milliseconds each hot call may take before the layer falls back to cold. @default 250 */
  hotTimeout?: number
  /** Sessions remembered as "hot copy not confirmed removed" before hot is distrusted wholesale. @default 10000 */
  maxTombstones?: number
  /** Milliseconds between attempts to delete the hot copies of those sessions. @default 1000 */
  repairInterval?: number
  /** Receives every hot failure absorbed by falling back to cold. @default a rate-limited `console.warn` */
  onError?: HotErrorHandler
}

/**
 * @param name - option name for the message
 * @param value - milliseconds
 * @param zero - whether `0` is allowed
 * @returns the value
 * @throws SessionConfigError when it is negative, not finite, or a forbidden zero
 */
export function positive(name: string, value: number, zero = false): number {
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero)) {
    throw new SessionConfigError(`${name} must be a ${zero ? 'non-negative' : 'positive'} number of milliseconds`)
  }
  return value
}

/**
 * The default `onError`: one `console.warn` per interval at most, so an outage does not flood logs.
 *
 * @param ms - minimum milliseconds between two warnings
 * @returns the handler
 */
export function warnAtMostEvery(ms: number): HotErrorHandler {
  let last = Number.NEGATIVE_INFINITY
  return (error, context) => {
    if (Date.now() - last < ms) return
    last = Date.now()
    console.warn(`ruts LayeredStore: hot store ${context.operation} failed, served from cold: ${error.message}`)
  }
}
