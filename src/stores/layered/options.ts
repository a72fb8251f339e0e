import type { SessionStore } from '../../core/store.js'
import { MAX_TTL } from '../../core/ttl.js'
import { type Check, checkOptions, checks, isThenable, optionError } from '../../core/validate.js'
import type { HotErrorHandler } from './hot-tier.js'
import { FIELD_POLICY_CHECKS, type FieldPolicy } from './policies.js'

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

const isStore = ((value) =>
  typeof (value as SessionStore | undefined)?.write === 'function'
    ? undefined
    : isThenable(value)
      ? 'is a promise: await it first (await PostgresStore.create(…))'
      : 'must be a session store') as Check

const LAYERED_OPTIONS = {
  hot: checks.required(isStore),
  cold: checks.required(isStore),
  hotTtl: checks.seconds(MAX_TTL),
  fields: checks.object,
  missTtl: checks.milliseconds({ zero: true }),
  hotTimeout: checks.milliseconds(),
  maxTombstones: checks.positiveInteger,
  repairInterval: checks.milliseconds(),
  onError: checks.function,
} satisfies Record<keyof LayeredStoreOptions, Check>

/**
 * Reject unknown and wrongly typed options of a {@link LayeredStoreOptions}, per-field policies included.
 *
 * @param options - the user's options
 * @throws SessionConfigError naming the option
 */
export function checkLayeredOptions(options: LayeredStoreOptions): void {
  checkOptions('LayeredStore', options, LAYERED_OPTIONS)
  if (options.hot === options.cold) throw optionError('LayeredStore', 'cold', 'must be another store than hot')
  for (const [field, policy] of Object.entries(options.fields ?? {})) {
    checkOptions('LayeredStore', policy, FIELD_POLICY_CHECKS, { path: `fields.${field}.` })
  }
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
