import type { ExpireResult, FieldRead, FieldValue, ReadOptions, RemoveResult, SessionRead } from '../../core/store.js'
import type { Command } from './client.js'
import { bytes, int, list, liveSession, text } from './replies.js'
import { defineScript, milliseconds, statusOf } from './script.js'
import { SUBJECT_LUA } from './subject-lua.js'

/**
 * The scripts that read a session or change it in place. Each carries its protocol: keys,
 * arguments, reply. Writes and renames are in `write-scripts.ts`.
 */

/** Touch arguments shared by the reads: ttl and threshold in ms, `''` for no touch. */
function touchArguments(options: ReadOptions | undefined): string[] {
  const touch = options?.touch
  return touch === undefined ? ['', ''] : [milliseconds(touch.ttl), milliseconds(touch.threshold)]
}

/** Input of {@link GET}. */
export interface GetInput {
  readonly key: string
  readonly field: string
  readonly options?: ReadOptions | undefined
}

/** KEYS: session. ARGV: field, touch ttl ms (`''` for none), touch threshold ms. → {OK, ttl, touched, value|nil} | {MISSING} */
export const GET = defineScript({
  name: 'get',
  numberOfKeys: 1,
  writes: false,
  body: `
local key = KEYS[1]
local name = 'f:' .. ARGV[1]
local now = now_ms()
local meta = read(key, name)
local at = live_until(key, meta[1], now)
if not at then return {MISSING} end
local touched
at, touched = touch(key, now, at, num(meta[2]), ARGV[2], ARGV[3])
local entry = meta[3]
local value = false
local remaining = 0
if entry then
  local expires, colon = expiry_of(entry)
  if expires > now then
    value = string.sub(entry, colon + 1)
    remaining = expires - now
  else
    redis.call('HDEL', key, name)
  end
end
return {OK, at - now, touched, value, remaining}
`,
  build: (input: GetInput) => ({ keys: [input.key], args: [input.field, ...touchArguments(input.options)] }),
  parse(reply): FieldRead {
    const [status, ttl, touched, value, remaining] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    const read = { ...liveSession(ttl, touched), value: bytes(value) }
    return read.value === undefined ? read : { ...read, fieldTtl: int(remaining) }
  },
})

/**
 * A plain read (no touch) needs no script: `HMGET <session> m:expires f:<field>` then `TIME`, in
 * one pipeline (one exchange, on the session's node). The server's clock is read after the hash, so
 * a session or field whose expiry passes between the two reads as gone: never a value past its
 * expiry. Nothing is written: an expired field stays until a write, `getAll` or the key's own expiry
 * removes it, and a node that refuses writes still serves the read.
 */
export const READ_FIELD = {
  /**
   * @param key - the session's Redis key
   * @param field - the field name
   * @returns the two commands
   */
  commands: (key: string, field: string): Command[] => [['HMGET', key, 'm:expires', `f:${field}`], ['TIME']],
  /**
   * @param replies - the replies of {@link READ_FIELD.commands}
   * @returns the read
   * @throws the server's error, or TypeError for replies of another shape
   */
  parse(replies: readonly unknown[]): FieldRead {
    const [hash, time] = replies
    if (hash instanceof Error) throw hash
    if (time instanceof Error) throw time
    const [expires, entry] = list(hash)
    const [seconds, micros] = list(time)
    const now = number(seconds) * 1000 + Math.floor(number(micros) / 1000)
    const at = expires === null ? 0 : number(expires)
    if (at <= now) return { live: false }
    const raw = bytes(entry)
    if (raw === undefined) return { live: true, ttl: at - now, touched: false, value: undefined }
    const colon = raw.indexOf(0x3a)
    if (colon < 1) throw new TypeError('unexpected reply')
    const fieldAt = number(raw.subarray(0, colon))
    if (fieldAt <= now) return { live: true, ttl: at - now, touched: false, value: undefined }
    return { live: true, ttl: at - now, touched: false, value: raw.subarray(colon + 1), fieldTtl: fieldAt - now }
  },
}

/** A decimal integer the server sent as a bulk string. */
function number(value: unknown): number {
  const digits = text(value)
  const parsed = Number(digits)
  if (digits === '' || !Number.isSafeInteger(parsed)) throw new TypeError('unexpected reply')
  return parsed
}

/** Input of {@link GET_ALL}. */
export interface GetAllInput {
  readonly key: string
  readonly options?: ReadOptions | undefined
}

/** KEYS: session. ARGV: touch ttl ms, touch threshold ms. → {OK, ttl, touched, name1, value1, …} | {MISSING} */
export const GET_ALL = defineScript({
  name: 'getAll',
  numberOfKeys: 1,
  writes: false,
  body: `
local key = KEYS[1]
local now = now_ms()
local all = redis.call('HGETALL', key)
local reply, expired = {OK, 0, 0}, {}
local expires, deadline = false, false
for i = 1, #all, 2 do
  local name, entry = all[i], all[i + 1]
  if string.sub(name, 1, 2) == 'f:' then
    local field_expires, colon = expiry_of(entry)
    if field_expires > now then
      push(reply, string.sub(name, 3), string.sub(entry, colon + 1))
    else
      expired[#expired + 1] = name
    end
  elseif name == 'm:expires' then
    expires = entry
  elseif name == 'm:deadline' then
    deadline = entry
  end
end
local at = live_until(key, expires, now)
if not at then return {MISSING} end
-- Expired entries are only reclaimed here and by the key's own expiry, so writes stay O(1).
call_with('HDEL', key, expired)
at, reply[3] = touch(key, now, at, num(deadline), ARGV[1], ARGV[2])
reply[2] = at - now
return reply
`,
  build: (input: GetAllInput) => ({ keys: [input.key], args: touchArguments(input.options) }),
  parse(reply): SessionRead {
    const [status, ttl, touched, ...pairs] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    const fields = new Map<string, FieldValue>()
    for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(text(pairs[i]), bytes(pairs[i + 1]) ?? new Uint8Array())
    return { ...liveSession(ttl, touched), fields }
  },
})

/** Input of {@link REMOVE}. */
export interface RemoveInput {
  readonly key: string
  readonly field: string
}

/**
 * Remove one field; with ARGV[2] = `'take'` also reply the live value deleted, so of concurrent
 * takes exactly one sees it.
 */
const REMOVE_BODY = `
local key = KEYS[1]
local name = 'f:' .. ARGV[1]
local now = now_ms()
local meta = redis.call('HMGET', key, 'm:expires', name)
local at = live_until(key, meta[1], now)
if not at then return {MISSING} end
local entry = meta[2]
local removed, value = 0, false
if entry then
  local expires, colon = expiry_of(entry)
  if expires > now then
    removed = 1
    if ARGV[2] == 'take' then value = string.sub(entry, colon + 1) end
  end
  redis.call('HDEL', key, name)
end
return {OK, at - now, removed, value}
`

/** KEYS: session. ARGV: field. → {OK, ttl, removed} | {MISSING} */
export const REMOVE = defineScript({
  name: 'remove',
  numberOfKeys: 1,
  writes: true,
  body: REMOVE_BODY,
  build: (input: RemoveInput) => ({ keys: [input.key], args: [input.field] }),
  parse(reply): RemoveResult {
    const [status, ttl, removed] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    return { ...liveSession(ttl, 0), removed: int(removed) === 1 }
  },
})

/** The store's `take`. KEYS: session. ARGV: field, `'take'`. → {OK, ttl, removed, value|nil} | {MISSING} */
export const TAKE_FIELD = defineScript({
  name: 'take',
  numberOfKeys: 1,
  writes: true,
  body: REMOVE_BODY,
  build: (input: RemoveInput) => ({ keys: [input.key], args: [input.field, 'take'] }),
  parse(reply): FieldRead {
    const [status, ttl, , value] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    return { ...liveSession(ttl, 0), value: bytes(value) }
  },
})

/**
 * Where a session leaves its subject's index when it is deleted: `here`, in the same script (a
 * standalone server), or `reply`, by the caller (a Cluster, where the index is in another slot).
 */
export type IndexLeaving = 'here' | 'reply'

/** Input of {@link DELETE}. */
export interface DeleteInput {
  readonly key: string
  readonly leave: IndexLeaving
}

/** What {@link DELETE} and {@link EXPIRE} report about a deleted session's subject. */
export interface Deleted {
  /** `true` when a live session was deleted. */
  readonly deleted: boolean
  /** With `leave: 'reply'`: the index key of the deleted session's subject, for the caller to leave. */
  readonly index: string | undefined
}

/**
 * Delete whatever the key holds; a live session also leaves its subject's index (here, or by naming
 * the index in the reply). Expects entries = HMGET m:expires, m:index.
 */
const DELETE_LUA = `
local function delete(key, entries, leave)
  local live = live_until(key, entries[1], now_ms())
  -- Whatever the key holds goes, a Cluster move's tombstone included (so a late give-back cannot
  -- restore the id; see cluster-rename.ts).
  redis.call('DEL', key)
  if not live then return {MISSING} end
  local index = entries[2]
  if index and leave == 'here' then redis.call('ZREM', index, member_of(key)) end
  if index and leave ~= 'here' then return {OK, index} end
  return {OK}
end
`

/** An index key a reply names, if any. */
function indexIn(element: unknown): string | undefined {
  return bytes(element) === undefined ? undefined : text(element)
}

/** KEYS: session. ARGV: `here` | `reply`. → {OK} | {OK, index} | {MISSING} */
export const DELETE = defineScript({
  name: 'delete',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}${DELETE_LUA}`,
  body: `
return delete(KEYS[1], redis.call('HMGET', KEYS[1], 'm:expires', 'm:index'), ARGV[1])
`,
  build: (input: DeleteInput) => ({ keys: [input.key], args: [input.leave] }),
  parse(reply): Deleted {
    const [status, index] = list(reply)
    return { deleted: statusOf(status) === 'ok', index: indexIn(index) }
  },
})

/** Input of {@link EXPIRE}. */
export interface ExpireInput {
  readonly key: string
  /** New lifetime from now; ≤ 0 deletes the session. */
  readonly seconds: number
  readonly leave: IndexLeaving
}

/** Result of {@link EXPIRE}: the store's result, and the index to leave after `expire(0)` with `leave: 'reply'`. */
export interface Expired {
  readonly result: ExpireResult
  readonly index: string | undefined
}

/**
 * KEYS: session. ARGV: lifetime ms (≤ 0 deletes), `here` | `reply`.
 * → {OK, ttl} | {MISSING} | {MISSING, index} (deleted, as {@link DELETE})
 */
export const EXPIRE = defineScript({
  name: 'expire',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}${DELETE_LUA}`,
  body: `
local key = KEYS[1]
local meta = redis.call('HMGET', key, 'm:expires', 'm:index', 'm:deadline')
local lifetime = tonumber(ARGV[1])
if lifetime <= 0 then return {MISSING, delete(key, meta, ARGV[2])[2]} end
local now = now_ms()
if not live_until(key, meta[1], now) then return {MISSING} end
local at = now + lifetime
local deadline = num(meta[3])
if deadline > 0 and at > deadline then at = deadline end
set_expiry(key, at, now)
return {OK, at - now}
`,
  build: (input: ExpireInput) => ({ keys: [input.key], args: [milliseconds(input.seconds), input.leave] }),
  parse(reply): Expired {
    const [status, second] = list(reply)
    if (statusOf(status) === 'missing') return { result: { live: false }, index: indexIn(second) }
    return { result: liveSession(second, 1), index: undefined }
  },
})
