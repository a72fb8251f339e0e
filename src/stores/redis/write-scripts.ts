import type {
  FieldValue,
  IncrementOptions,
  IncrementResult,
  PlacementOptions,
  RenameResult,
  WriteOptions,
  WriteResult,
} from '../../core/store.js'
import { FIELD_LIMIT, INTEGERS, TOMBSTONE_MS } from './lua.js'
import { bytes, int, list, liveSession, text, toBuffer } from './replies.js'
import { defineScript, milliseconds, type ScriptArgument, type ScriptCall, type Status, statusOf } from './script.js'
import { memberOf } from './subject-keys.js'
import { SUBJECT_LUA, TAKE_LUA } from './subject-lua.js'

/**
 * The scripts that write a field or move a session to a new key. A Cluster rename is two of them
 * (`TAKE` on the source's node, then `PLACE` or `WRITE` on the target's); see `cluster-rename.ts`.
 */

/**
 * A session as `TAKE` read it from its old key: the source server's clock, the expiry, then the
 * hash's name/entry pairs — sent as-is to `PLACE` or `WRITE`, which rebase it on their own clock.
 */
export type TakenSession = readonly ScriptArgument[]

/**
 * A `TAKE`-shaped reply after its status, as arguments to send on.
 *
 * @param elements - the reply's elements after the status
 * @returns the taken session
 */
export function takenSession(elements: readonly unknown[]): TakenSession {
  return elements.map((element) => {
    if (typeof element === 'number') return String(element)
    const raw = bytes(element)
    if (raw === undefined) throw new TypeError('unexpected script reply')
    return toBuffer(raw)
  })
}

/** Input of {@link WRITE}. */
export interface WriteInput {
  readonly key: string
  readonly field: string
  readonly value: FieldValue
  readonly options: WriteOptions
  /** A session taken from another node (Cluster rename) to create the key from. */
  readonly taken?: TakenSession | undefined
}

/** Input of {@link WRITE_RENAMING}: a standalone write that first renames `from` to `key`. */
export interface RenamingWriteInput extends WriteInput {
  readonly from: string
}

/** Input of {@link INCREMENT}. */
export interface IncrementInput {
  readonly key: string
  readonly field: string
  readonly options: IncrementOptions
  /** A session taken from another node (Cluster rename) to create the key from. */
  readonly taken?: TakenSession | undefined
}

/** Input of {@link INCREMENT_RENAMING}: a standalone increment that first renames `from` to `key`. */
export interface RenamingIncrementInput extends IncrementInput {
  readonly from: string
}

const WRITE_LUA = `${INTEGERS}${SUBJECT_LUA}${FIELD_LIMIT}
-- m:expires, m:deadline, m:soonest and, when name is given, that entry, in one HMGET.
local function read_for_write(key, name)
  if name then return redis.call('HMGET', key, 'm:expires', 'm:deadline', 'm:soonest', name) end
  return redis.call('HMGET', key, 'm:expires', 'm:deadline', 'm:soonest')
end
`

const WRITE_BODY = `
local key = KEYS[1]
local name = 'f:' .. ARGV[3]
local insert = ARGV[1] == 'insert'
local format = string.match(ARGV[1], '^increment:(.*)$')
-- insert and increment need the field's current entry.
local needs_entry = (insert or format) and name
local now = now_ms()
local at, deadline, entry
-- m:soonest as read (false: unknown); the live fields of a taken session (nil: in the hash).
local soonest, taken_fields = false, nil
-- Pairs to HSET before m:expires and the field; stored is 1 when m:expires must be (re)written.
local writes = {}
local stored = 0
local touched = 0
if ARGV[2] == 'create' then
  if live_key(key, now) then return {COLLISION} end
  deadline = 0
  at = now + tonumber(ARGV[6])
  if tonumber(ARGV[7]) > 0 then
    deadline = now + tonumber(ARGV[7])
    if at > deadline then at = deadline end
  end
  redis.call('DEL', key)
  push(writes, 'm:deadline', ms(deadline))
  push(writes, 'm:created', ms(now))
  soonest = ms(NEVER)
  taken_fields = 0
  stored = 1
  touched = 1
elseif KEYS[2] then
  local meta = read_for_write(KEYS[2], needs_entry)
  at = live_until(KEYS[2], meta[1], now)
  if not at then return {MISSING} end
  if live_key(key, now) then return {COLLISION} end
  -- RENAME keeps the TTL and the hash; both keys are checked and moved in this one atomic script,
  -- and a bound session's index learns the new key in it too.
  redis.call('RENAME', KEYS[2], key)
  follow_in_index(redis.call('HGET', key, 'm:index'), KEYS[2], key, at)
  deadline, soonest, entry = num(meta[2]), meta[3], meta[4]
elseif #ARGV > 8 then
  if live_key(key, now) then return {COLLISION} end
  -- A revocation reached this move in flight (Cluster): the session is gone.
  if revoked(key) then return {MISSING} end
  redis.call('DEL', key)
  writes, at, deadline, taken_fields, soonest = rebase(now, ARGV, 9)
  soonest = ms(soonest)
  entry = lookup(writes, name)
  stored = 1
else
  local meta = read_for_write(key, needs_entry)
  at = live_until(key, meta[1], now)
  if not at then return {MISSING} end
  deadline, soonest, entry = num(meta[2]), meta[3], meta[4]
end
local value, field_expires, counter = ARGV[4], now + tonumber(ARGV[5]), nil
local live_entry = entry and expiry_of(entry) > now
local refused = insert and live_entry and EXISTS
-- The field limit, for a write that adds a field (a taken session is counted as rebased, not in the
-- hash, which the move has not written yet).
if not refused and not live_entry and ARGV[8] ~= '0' then
  local room, reclaimed
  if taken_fields then room = taken_fields < tonumber(ARGV[8]) else room, reclaimed = has_room(key, name, ARGV[8], now, needs_entry) end
  if reclaimed then soonest = reclaimed end
  if not room then refused = FULL end
end
if format then
  -- Increment: add to the live field's integer; a live field keeps its expiry (fixed windows).
  counter = 0
  if live_entry then
    local expires, colon = expiry_of(entry)
    counter = decode_int(string.sub(entry, colon + 1), format)
    field_expires = expires
  end
  counter = counter and counter + tonumber(value)
  if counter and math.abs(counter) <= SAFE then value = encode_int(counter, format) else refused = INVALID end
end
if refused then
  -- Nothing to write but a session placed from another node.
  if stored == 1 then
    push(writes, 'm:expires', ms(at))
    call_with('HSET', key, writes)
    redis.call('PEXPIREAT', key, ms(at))
  end
  return {refused, at - now, 0}
end
local moved
at, moved = extended(at, deadline, now + tonumber(ARGV[6]))
stored = math.max(stored, moved)
if stored == 1 then push(writes, 'm:expires', ms(at)) end
push(writes, 'm:active', ms(now))
push_soonest(writes, soonest, field_expires)
push(writes, name, ms(field_expires) .. ':' .. value)
call_with('HSET', key, writes)
if stored == 1 then redis.call('PEXPIREAT', key, ms(at)) end
-- The sum as text: node-redis parses integer replies near 2^53 inexactly.
if counter then return {OK, at - now, math.max(touched, moved), ms(counter)} end
return {OK, at - now, math.max(touched, moved)}
`

/**
 * ARGV of the write script: mode (`insert`, `update`, or `increment:<format>`), session, field,
 * value (for an increment: the amount), field ttl, session ttl, max lifetime (0 = none), max fields
 * (0 = none), then a taken session.
 */
function placedArguments(
  mode: string,
  input: { field: string; options: PlacementOptions; taken?: TakenSession | undefined },
  value: ScriptArgument,
): ScriptArgument[] {
  const { options } = input
  return [
    mode,
    options.session,
    input.field,
    value,
    milliseconds(options.fieldTtl),
    milliseconds(options.sessionTtl),
    options.session === 'create' && options.maxLifetime !== undefined ? milliseconds(options.maxLifetime) : '0',
    String(options.maxFields ?? 0),
    ...(input.taken ?? []),
  ]
}

/** Position of the value among `placedArguments`, and where a taken session starts. */
const VALUE_POSITION = 3
const TAKEN_POSITION = 8

/**
 * The positions of placed-write arguments that carry session data: the value (not an increment's
 * amount) and a taken session's entries. They are staged, never sent as script arguments.
 */
function stagedPositions(args: readonly ScriptArgument[], value: boolean): number[] {
  const staged = value ? [VALUE_POSITION] : []
  for (let position = TAKEN_POSITION; position < args.length; position++) staged.push(position)
  return staged
}

function writeCall(keys: string[], input: WriteInput): ScriptCall {
  const args = placedArguments(input.options.mode, input, toBuffer(input.value))
  return { keys, args, staged: stagedPositions(args, true) }
}

function incrementCall(keys: string[], input: IncrementInput): ScriptCall {
  const args = placedArguments(`increment:${input.options.format}`, input, String(input.options.by))
  return { keys, args, staged: stagedPositions(args, false) }
}

const WRITE_STATUS: Partial<Record<Status, WriteResult['status']>> = {
  missing: 'missing',
  ok: 'written',
  exists: 'exists',
  full: 'full',
  collision: 'collision',
}

function writeResult(reply: unknown): WriteResult {
  const [code, ttl, touched] = list(reply)
  const status = WRITE_STATUS[statusOf(code)]
  if (status === undefined) throw new TypeError('unexpected script reply')
  if (status === 'missing' || status === 'collision') return { status }
  return { status, ...liveSession(ttl, touched) }
}

function incrementResult(reply: unknown): IncrementResult {
  const [code, ttl, touched, counter] = list(reply)
  const status = statusOf(code)
  if (status === 'missing' || status === 'collision') return { status }
  if (status === 'invalid' || status === 'full') return { status, ...liveSession(ttl, touched) }
  if (status !== 'ok') throw new TypeError('unexpected script reply')
  return { status: 'written', ...liveSession(ttl, touched), value: int(Number(text(counter))) }
}

/**
 * KEYS: target. ARGV: see `placedArguments`; a taken session (Cluster rename) follows the eight.
 * → {OK|EXISTS|FULL, ttl, touched} | {MISSING} | {COLLISION}
 */
export const WRITE = defineScript({
  name: 'write',
  numberOfKeys: 1,
  writes: true,
  lua: WRITE_LUA,
  body: WRITE_BODY,
  build: (input: WriteInput) => writeCall([input.key], input),
  parse: writeResult,
})

/**
 * The common write, `mode: 'update'` without a rename: the same outcome as {@link WRITE}, in the
 * fewest Redis calls (a create: TIME, EXISTS, HSET, PEXPIREAT; an update: TIME, HMGET, HSET and,
 * when the lifetime moves, PEXPIREAT) and none of the branches for the modes it does not serve.
 * An update into an existing session adds one HLEN for the field limit (more only at the limit).
 * KEYS: session. ARGV: `create` | `existing`, field, value, field ttl ms, session ttl ms, max
 * lifetime ms (0 = none), max fields (0 = none). → {OK, ttl, touched} | {FULL, ttl, 0} | {MISSING} |
 * {COLLISION}
 */
export const SET_FIELD = defineScript({
  name: 'write',
  numberOfKeys: 1,
  writes: true,
  lua: FIELD_LIMIT,
  body: `
local key = KEYS[1]
local now = now_ms()
local name = 'f:' .. ARGV[2]
local field_expires = now + tonumber(ARGV[4])
local entry = ms(field_expires) .. ':' .. ARGV[3]
local target = now + tonumber(ARGV[5])
if ARGV[1] == 'create' then
  -- A new key is the rule (the id is new): only a key that exists is checked, and cleared unless live.
  if redis.call('EXISTS', key) == 1 then
    if live_key(key, now) then return {COLLISION} end
    redis.call('DEL', key)
  end
  local deadline = 0
  if ARGV[6] ~= '0' then
    deadline = now + tonumber(ARGV[6])
    if target > deadline then target = deadline end
  end
  local at, stamp = ms(target), ms(now)
  redis.call('HSET', key, 'm:expires', at, 'm:deadline', ms(deadline), 'm:created', stamp, 'm:active', stamp,
    'm:soonest', ms(field_expires), name, entry)
  redis.call('PEXPIREAT', key, at)
  return {OK, target - now, 1}
end
local meta = redis.call('HMGET', key, 'm:expires', 'm:deadline', 'm:soonest')
local at = live_until(key, meta[1], now)
if not at then return {MISSING} end
local room, reclaimed = has_room(key, name, ARGV[7], now, false)
if not room then return {FULL, at - now, 0} end
local moved
at, moved = extended(at, num(meta[2]), target)
local writes = {'m:active', ms(now), name, entry}
push_soonest(writes, reclaimed or meta[3], field_expires)
if moved == 1 then
  local expires = ms(at)
  push(writes, 'm:expires', expires)
  redis.call('HSET', key, unpack(writes))
  redis.call('PEXPIREAT', key, expires)
else
  redis.call('HSET', key, unpack(writes))
end
return {OK, at - now, moved}
`,
  build(input: WriteInput): ScriptCall {
    const { options } = input
    const args = [
      options.session,
      input.field,
      toBuffer(input.value),
      milliseconds(options.fieldTtl),
      milliseconds(options.sessionTtl),
      options.session === 'create' && options.maxLifetime !== undefined ? milliseconds(options.maxLifetime) : '0',
      String(options.maxFields ?? 0),
    ]
    return { keys: [input.key], args, staged: [2] }
  },
  parse: writeResult,
})

/** The same script with KEYS: target, source — a standalone write that renames first, atomically. */
export const WRITE_RENAMING = defineScript({
  name: 'write',
  numberOfKeys: 2,
  writes: true,
  lua: WRITE_LUA,
  body: WRITE_BODY,
  build: (input: RenamingWriteInput) => writeCall([input.key, input.from], input),
  parse: writeResult,
})

/**
 * The write script in increment mode: adds to the field's integer, keeping a live field's expiry.
 * KEYS: target. → {OK, ttl, touched, sum as text} | {INVALID|FULL, ttl, 0} | {MISSING} | {COLLISION}
 */
export const INCREMENT = defineScript({
  name: 'increment',
  numberOfKeys: 1,
  writes: true,
  lua: WRITE_LUA,
  body: WRITE_BODY,
  build: (input: IncrementInput) => incrementCall([input.key], input),
  parse: incrementResult,
})

/** {@link INCREMENT} with KEYS: target, source — renames first, atomically (standalone). */
export const INCREMENT_RENAMING = defineScript({
  name: 'increment',
  numberOfKeys: 2,
  writes: true,
  lua: WRITE_LUA,
  body: WRITE_BODY,
  build: (input: RenamingIncrementInput) => incrementCall([input.key, input.from], input),
  parse: incrementResult,
})

function renameResult(reply: unknown): RenameResult {
  const [code, ttl] = list(reply)
  const status = statusOf(code)
  if (status === 'missing' || status === 'collision') return { status }
  if (status !== 'ok') throw new TypeError('unexpected script reply')
  return { status: 'renamed', ...liveSession(ttl, 0) }
}

/** Input of {@link RENAME}. */
export interface RenameInput {
  readonly from: string
  readonly to: string
}

/** Standalone rename. KEYS: source, target. → {OK, ttl} | {MISSING} | {COLLISION} */
export const RENAME = defineScript({
  name: 'rename',
  numberOfKeys: 2,
  writes: true,
  lua: `${SUBJECT_LUA}`,
  body: `
local now = now_ms()
local at = live_key(KEYS[1], now)
if not at then return {MISSING} end
if live_key(KEYS[2], now) then return {COLLISION} end
redis.call('RENAME', KEYS[1], KEYS[2])
follow_in_index(redis.call('HGET', KEYS[2], 'm:index'), KEYS[1], KEYS[2], at)
return {OK, at - now}
`,
  build: (input: RenameInput) => ({ keys: [input.from, input.to], args: [] }),
  parse: renameResult,
})

/** Input of {@link TAKE}. */
export interface TakeInput {
  readonly key: string
  /** Names this move in the tombstone it leaves, so only this move can put the session back. */
  readonly token: string
  /** Where the session is going: a bound session's tombstone also names it (`m:moved`). */
  readonly to: string
  /** How long the tombstone lives beyond {@link TOMBSTONE_MS}, in ms (the store's hold). */
  readonly hold: number
}

/**
 * Cluster rename, step 1 on the source's node: read the session and replace it with a tombstone
 * (`m:taken` → the move's token, no `m:expires`, so it is no session to any script) in one atomic
 * step. Only {@link GIVE_BACK} with the same token may bring the session back there; a `DELETE` of the
 * old id, or another move, removes or replaces the tombstone and so forbids it. A bound session's
 * tombstone also names the target (`m:moved`), which a revocation follows (see `subject-lua.ts`).
 * KEYS: source. ARGV: token, target's store key, tombstone ms. → {MISSING} | {OK, server ms, expiry
 * ms, name1, entry1, …}
 */
export const TAKE = defineScript({
  name: 'take',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}${TAKE_LUA}`,
  body: `
local key = KEYS[1]
local now = now_ms()
local all = redis.call('HGETALL', key)
local at = live_until(key, lookup(all, 'm:expires'), now)
if not at then return {MISSING} end
return take(key, all, now, at, ARGV[1], ARGV[2], ARGV[3])
`,
  build: (input: TakeInput) => ({
    keys: [input.key],
    args: [input.token, memberOf(input.to), String(Math.max(TOMBSTONE_MS, input.hold))],
  }),
  parse(reply): TakenSession | undefined {
    const [status, ...rest] = list(reply)
    if (statusOf(status) === 'missing') return undefined
    return takenSession(rest)
  },
})

/** Input of {@link PLACE}. */
export interface PlaceInput {
  readonly key: string
  readonly taken: TakenSession
}

/**
 * Cluster rename, step 2 on the target's node: create the session only when the key is not live.
 * Also puts a taken session back after a collision. KEYS: target. ARGV: as `TAKE` replied.
 * → {OK, ttl} | {COLLISION} | {MISSING} (a revocation reached the move: the session is gone)
 */
export const PLACE = defineScript({
  name: 'place',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}`,
  body: `
local key = KEYS[1]
local now = now_ms()
if live_key(key, now) then return {COLLISION} end
if revoked(key) then return {MISSING} end
return {OK, place_taken(key, now, ARGV, 1) - now}
`,
  build: (input: PlaceInput) => ({ keys: [input.key], args: input.taken, staged: input.taken.map((_, i) => i) }),
  parse: renameResult,
})

/** Input of {@link GIVE_BACK}. */
export interface GiveBackInput extends PlaceInput {
  /** The token of the `TAKE` that took the session from `key`. */
  readonly token: string
}

/**
 * Undo of a Cluster move: put a taken session back at its source, only while the source still holds
 * the tombstone of that very `TAKE`. Once the old id was deleted (the browser logged out, the
 * tombstone went with it) or moved again, a give-back that arrives late (after the store's deadline,
 * retried by the client across a failover) finds no tombstone of its own and changes nothing: a
 * retired id never comes back. KEYS: source. ARGV: token, then as `TAKE` replied.
 * → {OK, ttl} | {MISSING}
 */
export const GIVE_BACK = defineScript({
  name: 'give-back',
  numberOfKeys: 1,
  writes: true,
  restores: true,
  body: `
local key = KEYS[1]
if redis.call('HGET', key, 'm:taken') ~= ARGV[1] then return {MISSING} end
local now = now_ms()
return {OK, place_taken(key, now, ARGV, 2) - now}
`,
  build: (input: GiveBackInput) => ({
    keys: [input.key],
    args: [input.token, ...input.taken],
    staged: input.taken.map((_, i) => i + 1),
  }),
  parse: renameResult,
})
