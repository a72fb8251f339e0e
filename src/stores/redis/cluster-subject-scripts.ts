import type { BindOptions, BindResult, SessionKey } from '../../core/store.js'
import { TOMBSTONE_MS } from './lua.js'
import { list, text } from './replies.js'
import { defineScript, milliseconds, statusOf } from './script.js'
import { SUBJECT_LUA, TAKE_LUA } from './subject-lua.js'
import { bindReply } from './subject-scripts.js'
import { type TakenSession, takenSession } from './write-scripts.js'

/**
 * The steps of subjects on a Cluster that run on a session's node (`BIND_SOURCE`, `BIND_PLACE`,
 * `SESSION_STATE`, `REVOKE_ONE`); those on the index's node are in `index-scripts.ts`, and
 * `cluster-subjects.ts` orders them.
 */

/** Input of {@link BIND_SOURCE}. */
export interface BindSourceInput {
  /** Redis key of the session to bind. */
  readonly key: string
  /** Store key the session moves to when the subject changes. */
  readonly to: SessionKey
  /** The move's token, for its tombstone (see `TAKE`). */
  readonly token: string
  readonly hold: number
  readonly options: BindOptions
}

/** What {@link BIND_SOURCE} did. */
export type BindSource =
  | { status: 'missing' }
  | { status: 'kept'; reply: BindResult }
  | { status: 'taken'; taken: TakenSession }

/**
 * Cluster bind, step 1 on the session's node: already bound to the subject → replace meta, extend,
 * mark active (`kept`, the whole bind); otherwise take the session as `TAKE` does (a bound one's
 * tombstone names the target). KEYS: session. ARGV: subject, meta (staged), session ttl ms, token,
 * target store key, tombstone ms. → {KEPT, ttl, touched} | {OK, server ms, expiry ms, name, entry, …}
 * | {MISSING}
 */
export const BIND_SOURCE = defineScript({
  name: 'bindSource',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}${TAKE_LUA}`,
  body: `
local key = KEYS[1]
local now = now_ms()
local all = redis.call('HGETALL', key)
local at = live_until(key, lookup(all, 'm:expires'), now)
if not at then return {MISSING} end
if lookup(all, 'm:subject') ~= ARGV[1] then return take(key, all, now, at, ARGV[4], ARGV[5], ARGV[6]) end
local moved
at, moved = extended(at, num(lookup(all, 'm:deadline')), now + tonumber(ARGV[3]))
local writes = {'m:meta', ARGV[2], 'm:active', ms(now)}
if moved == 1 then push(writes, 'm:expires', ms(at)) end
redis.call('HSET', key, unpack(writes))
if moved == 1 then redis.call('PEXPIREAT', key, ms(at)) end
return {KEPT, at - now, moved}
`,
  build: (input: BindSourceInput) => ({
    keys: [input.key],
    args: [
      input.options.subject,
      input.options.meta,
      milliseconds(input.options.sessionTtl),
      input.token,
      input.to,
      String(Math.max(TOMBSTONE_MS, input.hold)),
    ],
    staged: [0, 1],
  }),
  parse(reply): BindSource {
    const [status, ...rest] = list(reply)
    const code = statusOf(status)
    if (code === 'missing') return { status: code }
    if (code === 'kept') return { status: code, reply: bindReply(reply) }
    return { status: 'taken', taken: takenSession(rest) }
  },
})

/** Input of {@link BIND_PLACE}. */
export interface BindPlaceInput {
  readonly key: string
  readonly index: string
  readonly options: BindOptions
  /** The session taken from its old key; none to create one. */
  readonly taken?: TakenSession | undefined
}

/**
 * Cluster bind, last step on the target's node: create the bound session, or place the taken one
 * bound (rebased as `PLACE` does), unless the target is live (`collision`) or a revocation reached it
 * (`missing`). KEYS: target. ARGV: subject, meta (staged), index, session ttl ms, max lifetime ms,
 * then a taken session (staged). → {OK, ttl, touched} | {COLLISION} | {MISSING}
 */
export const BIND_PLACE = defineScript({
  name: 'bindPlace',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}`,
  body: `
local key = KEYS[1]
local now = now_ms()
if live_key(key, now) then return {COLLISION} end
if revoked(key) then return {MISSING} end
redis.call('DEL', key)
local writes, at, deadline, touched
if #ARGV > 5 then
  writes, at, deadline = rebase(now, ARGV, 6)
  at, touched = extended(at, deadline, now + tonumber(ARGV[4]))
  if not lookup(writes, 'm:created') then push(writes, 'm:created', ms(now)) end
else
  deadline, at, touched = 0, now + tonumber(ARGV[4]), 1
  if tonumber(ARGV[5]) > 0 then
    deadline = now + tonumber(ARGV[5])
    if at > deadline then at = deadline end
  end
  writes = {'m:deadline', ms(deadline), 'm:created', ms(now)}
end
-- Later pairs win in HSET: these replace the subject entries a taken session brought along.
push(writes, 'm:subject', ARGV[1])
push(writes, 'm:meta', ARGV[2])
push(writes, 'm:index', ARGV[3])
push(writes, 'm:active', ms(now))
push(writes, 'm:expires', ms(at))
call_with('HSET', key, writes)
redis.call('PEXPIREAT', key, ms(at))
return {OK, at - now, touched}
`,
  build(input: BindPlaceInput) {
    const { options } = input
    const lifetime = options.session === 'create' && options.maxLifetime !== undefined ? options.maxLifetime : 0
    const taken = input.taken ?? []
    const args = [options.subject, options.meta, input.index, milliseconds(options.sessionTtl), milliseconds(lifetime)]
    return { keys: [input.key], args: [...args, ...taken], staged: [0, 1, ...taken.map((_, i) => i + args.length)] }
  },
  parse: bindReply,
})

/** What a session's node says about an index entry. */
export type SessionState =
  | { status: 'live'; expiresAt: number; createdAt: number; lastActiveAt: number; meta: string }
  | { status: 'elsewhere' }
  | { status: 'moved'; to: SessionKey }
  | { status: 'missing' }

/** Input of {@link SESSION_STATE}. */
export interface SessionStateInput {
  readonly key: string
  readonly index: string
  /**
   * Ms to block the key for when it holds nothing (an entry about to be pruned whose placement
   * could in theory still be on its way; see `cluster-subjects.ts`); none to only look.
   */
  readonly block?: number | undefined
}

/**
 * The session an entry names. KEYS: session. ARGV: index, block ms ('' none).
 * → {OK, expires, created, active, meta} (live, bound to this index) | {EXISTS} (live, bound
 * elsewhere or nowhere) | {MOVED, target} | {MISSING}
 */
export const SESSION_STATE = defineScript({
  name: 'sessionState',
  numberOfKeys: 1,
  // A block must not be undone by a failover only while a placement is late; it is a guard, not data.
  writes: false,
  lua: `${SUBJECT_LUA}`,
  body: `
local key = KEYS[1]
local entries = redis.call('HMGET', key, 'm:expires', 'm:index', 'm:created', 'm:active', 'm:meta', 'm:moved')
if entries[6] then return {MOVED, entries[6]} end
if not live_until(key, entries[1], now_ms()) then
  if ARGV[2] ~= '' and not revoked(key) then mark(key, 'm:revoked', '1', ARGV[2]) end
  return {MISSING}
end
if entries[2] ~= ARGV[1] then return {EXISTS} end
local created = entries[3] or '0'
return {OK, entries[1], created, entries[4] or created, entries[5] or '{}'}
`,
  build: (input: SessionStateInput) => ({
    keys: [input.key],
    args: [input.index, input.block === undefined ? '' : String(input.block)],
  }),
  parse(reply): SessionState {
    const [status, first, created, active, meta] = list(reply)
    const code = statusOf(status)
    if (code === 'missing') return { status: 'missing' }
    if (code === 'exists') return { status: 'elsewhere' }
    if (code === 'moved') return { status: 'moved', to: text(first) }
    return {
      status: 'live',
      expiresAt: Number(text(first)),
      createdAt: Number(text(created)),
      lastActiveAt: Number(text(active)),
      meta: text(meta),
    }
  },
})

/** What {@link REVOKE_ONE} did at one key. */
export type RevokeStep =
  | { status: 'ended' }
  | { status: 'elsewhere' }
  | { status: 'moved'; to: SessionKey; age: number }
  | { status: 'missing' }

/** Input of {@link REVOKE_ONE}. */
export interface RevokeOneInput {
  readonly key: string
  readonly index: string
  /** How long a moved session's tombstone, once replaced by `m:revoked`, stays blocked (ms). */
  readonly hold: number
  /** Ms to block the key for when no session is there (a move may still be on its way); none not to. */
  readonly block: number | undefined
}

/**
 * End the session at one key when it is bound to this index. A "moved to" marker becomes an
 * `m:revoked` marker (so the move cannot be undone back here) and names the target, for the caller
 * to follow. KEYS: session. ARGV: index, hold ms, block ms for an absent key ('' none).
 * → {OK} | {EXISTS} (live, not this subject's: left alone) | {MOVED, target} | {MISSING}
 */
export const REVOKE_ONE = defineScript({
  name: 'revokeOne',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}`,
  body: `
local key = KEYS[1]
local entries = redis.call('HMGET', key, 'm:expires', 'm:index', 'm:moved', 'm:at')
if entries[3] then
  mark(key, 'm:revoked', '1', ARGV[2])
  return {MOVED, entries[3], ms(now_ms() - num(entries[4]))}
end
if live_until(key, entries[1], now_ms()) then
  if entries[2] ~= ARGV[1] then return {EXISTS} end
  redis.call('DEL', key)
  return {OK}
end
if ARGV[3] ~= '' and not revoked(key) then mark(key, 'm:revoked', '1', ARGV[3]) end
return {MISSING}
`,
  build: (input: RevokeOneInput) => ({
    keys: [input.key],
    args: [input.index, String(input.hold), input.block === undefined ? '' : String(input.block)],
  }),
  parse(reply): RevokeStep {
    const [status, target, age] = list(reply)
    const code = statusOf(status)
    if (code === 'ok') return { status: 'ended' }
    if (code === 'exists') return { status: 'elsewhere' }
    if (code === 'moved') return { status: 'moved', to: text(target), age: Number(text(age)) }
    if (code === 'missing') return { status: 'missing' }
    throw new TypeError('unexpected script reply')
  },
})
