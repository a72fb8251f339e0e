import { SessionError } from '../../core/errors.js'
import type { SessionKey } from '../../core/store.js'
import { MAX_TTL } from '../../core/ttl.js'
import { type Check, checks } from '../../core/validate.js'
import { LAYERED_WRITE_OPTIONS } from './write-options.js'

/** Which tier(s) a write goes to. */
export type WriteStrategy = 'write-through' | 'hot-only' | 'cold-only'

/** How one field is written and cached. */
export interface FieldPolicy {
  /** Which tier(s) writes go to. @default 'write-through' */
  strategy?: WriteStrategy
  /** TTL in seconds of the field's hot copy, capped at the field's TTL. @default the field's TTL */
  hotTtl?: number
}

/** A write's strategy and hot TTL, resolved from the call, the field defaults and the store default. */
export interface ResolvedWrite {
  strategy: WriteStrategy
  /** Seconds; never above the write's field TTL. */
  hotTtl: number
}

/** The checks of a {@link FieldPolicy}: for the store's `fields` option and for each write's options. */
export const FIELD_POLICY_CHECKS: Readonly<Record<keyof FieldPolicy, Check>> = {
  strategy: checks.oneOf('write-through', 'hot-only', 'cold-only'),
  hotTtl: checks.seconds(MAX_TTL),
}
/** Sessions whose per-call policies this process remembers for warming; oldest forgotten first. */
const MAX_REMEMBERED_SESSIONS = 10_000
/**
 * Fields per session whose per-call policies are remembered; the oldest is forgotten first. Field
 * names may come from clients: without a bound one session could grow this process's memory.
 */
const MAX_REMEMBERED_FIELDS = 256
/**
 * Remembered field policies in all, whatever the sessions: sessions cost nothing to create, so the two
 * bounds above alone would still allow 2.5 million entries. Oldest sessions are forgotten first.
 */
const MAX_REMEMBERED_ENTRIES = 20_000

/**
 * Where a field's strategy and hot TTL come from, most specific first: the write call's options,
 * then what this process remembers of earlier calls for that session's field (used when warming),
 * then the store's `fields` defaults, then the store's `hotTtl`.
 */
export class FieldPolicies {
  readonly #fields: ReadonlyMap<string, FieldPolicy>
  readonly #hotTtl: number | undefined
  /** Per-call policies of writes made here, so a warmed copy keeps the TTL its write asked for. */
  readonly #remembered = new Map<SessionKey, Map<string, FieldPolicy>>()
  /** Field policies held in {@link #remembered}, over all sessions. */
  #entries = 0

  /**
   * @param fields - per-field defaults from the store options, already checked (`checkLayeredOptions`)
   * @param hotTtl - the store's default hot TTL in seconds
   */
  constructor(fields: Readonly<Record<string, FieldPolicy>> | undefined, hotTtl: number | undefined) {
    this.#fields = new Map(Object.entries(fields ?? {}))
    this.#hotTtl = hotTtl
  }

  /**
   * Validate a write's `extra` options and resolve its policy.
   *
   * @param field - the field written
   * @param fieldTtl - the write's field TTL in seconds (the cold TTL)
   * @param extra - `WriteOptions.extra`
   * @returns the strategy and the hot TTL to use
   * @throws SessionError `ERR_SESSION_OPTION` for unknown keys, a bad strategy, or a `hotTtl` that is
   *   not whole seconds, exceeds `fieldTtl`, or comes with `cold-only`
   */
  resolve(field: string, fieldTtl: number, extra: Readonly<Record<string, unknown>> | undefined): ResolvedWrite {
    const call = parseExtra(extra)
    if (call.hotTtl !== undefined && call.hotTtl > fieldTtl) {
      // Rejected, not clamped: a hot copy outliving the durable one is a mistake worth hearing about.
      throw option(`hotTtl (${call.hotTtl} s) must not exceed the field's ttl (${fieldTtl} s)`)
    }
    const defaults = this.#fields.get(field)
    const strategy = call.strategy ?? defaults?.strategy ?? 'write-through'
    if (strategy === 'cold-only' && call.hotTtl !== undefined) throw option('hotTtl has no meaning with cold-only')
    const hotTtl = Math.min(call.hotTtl ?? defaults?.hotTtl ?? this.#hotTtl ?? fieldTtl, fieldTtl)
    return { strategy, hotTtl }
  }

  /**
   * The policy to warm a field with: what a write here said last, else the configured defaults.
   *
   * @param key - session key
   * @param field - field name
   * @returns the strategy and the hot TTL cap (`undefined`: no cap beyond the session's)
   */
  forRead(key: SessionKey, field: string): { strategy: WriteStrategy; hotTtl: number | undefined } {
    const remembered = this.#remembered.get(key)?.get(field)
    const defaults = this.#fields.get(field)
    return {
      strategy: remembered?.strategy ?? defaults?.strategy ?? 'write-through',
      hotTtl: remembered?.hotTtl ?? defaults?.hotTtl ?? this.#hotTtl,
    }
  }

  /**
   * Remember the policy a call asked for, or forget it when the call asked for none.
   *
   * @param key - session key
   * @param field - field name
   * @param extra - the call's `extra` options (already validated)
   * @param resolved - what the write used
   */
  remember(key: SessionKey, field: string, extra: object | undefined, resolved: ResolvedWrite): void {
    if (extra === undefined) {
      this.forgetField(key, field)
      return
    }
    let fields = this.#remembered.get(key)
    if (fields === undefined) {
      if (this.#remembered.size >= MAX_REMEMBERED_SESSIONS) this.forget(first(this.#remembered))
      fields = new Map()
      this.#remembered.set(key, fields)
    }
    // Re-inserted at the end, so the field forgotten first is the one written longest ago.
    if (fields.delete(field)) this.#entries--
    if (fields.size >= MAX_REMEMBERED_FIELDS && fields.delete(first(fields))) this.#entries--
    fields.set(field, { strategy: resolved.strategy, hotTtl: resolved.hotTtl })
    this.#entries++
    while (this.#entries > MAX_REMEMBERED_ENTRIES) {
      const oldest = first(this.#remembered)
      if (oldest === key) break
      this.forget(oldest)
    }
  }

  /**
   * Forget one field's remembered policy (it was removed or taken).
   *
   * @param key - session key
   * @param field - field name
   */
  forgetField(key: SessionKey, field: string): void {
    const fields = this.#remembered.get(key)
    if (fields === undefined) return
    if (fields.delete(field)) this.#entries--
    if (fields.size === 0) this.#remembered.delete(key)
  }

  /**
   * Follow a session to its new key (rename, regenerate).
   *
   * @param from - old key
   * @param to - new key
   */
  move(from: SessionKey, to: SessionKey): void {
    const fields = this.#remembered.get(from)
    if (fields === undefined) return
    this.#remembered.delete(from)
    this.forget(to)
    this.#remembered.set(to, fields)
  }

  /** @param key - a deleted session's key */
  forget(key: SessionKey): void {
    const fields = this.#remembered.get(key)
    if (fields === undefined) return
    this.#entries -= fields.size
    this.#remembered.delete(key)
  }
}

function parseExtra(extra: Readonly<Record<string, unknown>> | undefined): Partial<ResolvedWrite> {
  if (extra === undefined) return {}
  for (const [name, value] of Object.entries(extra)) {
    if (!LAYERED_WRITE_OPTIONS.includes(name)) throw option(`unknown LayeredStore write option ${name}`)
    const problem = value === undefined ? undefined : FIELD_POLICY_CHECKS[name as keyof FieldPolicy](value)
    if (problem !== undefined) throw option(`${name} ${problem}`)
  }
  const { strategy, hotTtl } = extra
  const parsed: Partial<ResolvedWrite> = {}
  if (strategy !== undefined) parsed.strategy = strategy as WriteStrategy
  if (hotTtl !== undefined) parsed.hotTtl = hotTtl as number
  return parsed
}

function option(message: string): SessionError {
  return new SessionError('ERR_SESSION_OPTION', message, { status: 500 })
}

function first<K>(map: Map<K, unknown>): K {
  return map.keys().next().value as K
}
