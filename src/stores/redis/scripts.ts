import type { ExpireResult, FieldRead, FieldValue, ReadOptions, RemoveResult, SessionRead } from '../../core/store.js'
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
if entry then
  local expires, colon = expiry_of(entry)
  if expires > now then value = string.sub(entry, colon + 1) else redis.call('HDEL', key, name) end
end
return {OK, at - now, touched, value}
`,
  build: (input: GetInput) => ({ keys: [input.key], args: [input.field, ...touchArguments(input.options)] }),
  parse(reply): FieldRead {
    const [status, ttl, touched, value] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    return { ...liveSession(ttl, touched), value: bytes(value) }
  },
})

/**
 * {@link GET} without a touch, for a plain read: never writes (a function registered `no-writes`).
 * An expired field reads as missing and stays until a write, `getAll` or the key's own expiry removes
 * it; a key past its `m:expires` that Redis has not dropped yet reads as no session. The entry comes
 * back whole (`<field expiry>:<value>`), split by {@link valueOfEntry}, so Redis copies the value
 * once, into the reply. KEYS: session. ARGV: field. → {OK, ttl, 0, entry|nil} | {MISSING}
 */
export const GET_READ = defineScript({
  name: 'get',
  numberOfKeys: 1,
  writes: false,
  readOnly: true,
  body: `
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'm:expires', 'f:' .. ARGV[1])
local at = num(meta[1])
if at <= now then return {MISSING} end
local entry = meta[2]
if entry and expiry_of(entry) <= now then entry = false end
return {OK, at - now, 0, entry}
`,
  build: (input: GetInput) => ({ keys: [input.key], args: [input.field] }),
  parse(reply): FieldRead {
    const [status, ttl, touched, entry] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    return { ...liveSession(ttl, touched), value: valueOfEntry(bytes(entry)) }
  },
})

/** The value of a field entry (`<field expiry ms>:<value bytes>`), without copying. */
function valueOfEntry(entry: Uint8Array | undefined): Uint8Array | undefined {
  if (entry === undefined) return undefined
  const colon = entry.indexOf(0x3a)
  if (colon < 0) throw new TypeError('unexpected script reply')
  return entry.subarray(colon + 1)
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
