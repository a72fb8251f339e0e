import type { ExpireResult, FieldRead, FieldValue, ReadOptions, RemoveResult, SessionRead } from '../../core/store.js'
import { bytes, int, list, liveSession, text } from './replies.js'
import { defineScript, milliseconds, statusOf } from './script.js'

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
 * KEYS: session. → OK when a live session was deleted, MISSING otherwise. Deletes whatever the key
 * holds, a Cluster move's tombstone included, so a late give-back cannot restore the id.
 */
export const DELETE = defineScript({
  name: 'delete',
  numberOfKeys: 1,
  writes: true,
  body: `
local live = live_key(KEYS[1], now_ms())
redis.call('DEL', KEYS[1])
if live then return OK end
return MISSING
`,
  build: (key: string) => ({ keys: [key], args: [] }),
  parse: (reply): boolean => statusOf(reply) === 'ok',
})

/** Input of {@link EXPIRE}. */
export interface ExpireInput {
  readonly key: string
  /** New lifetime from now; ≤ 0 deletes the session. */
  readonly seconds: number
}

/** KEYS: session. ARGV: lifetime ms (≤ 0 deletes). → {OK, ttl} | {MISSING} */
export const EXPIRE = defineScript({
  name: 'expire',
  numberOfKeys: 1,
  writes: true,
  body: `
local key = KEYS[1]
local lifetime = tonumber(ARGV[1])
-- Ending a session removes whatever the key holds, a Cluster move's tombstone included (so a
-- late give-back cannot restore it; see cluster-rename.ts).
if lifetime <= 0 then
  redis.call('DEL', key)
  return {MISSING}
end
local now = now_ms()
local meta = read(key)
if not live_until(key, meta[1], now) then return {MISSING} end
local at = now + lifetime
local deadline = num(meta[2])
if deadline > 0 and at > deadline then at = deadline end
set_expiry(key, at)
return {OK, at - now}
`,
  build: (input: ExpireInput) => ({ keys: [input.key], args: [milliseconds(input.seconds)] }),
  parse(reply): ExpireResult {
    const [status, ttl] = list(reply)
    return statusOf(status) === 'missing' ? { live: false } : liveSession(ttl, 1)
  },
})
