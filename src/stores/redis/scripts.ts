import { createHash } from 'node:crypto'

/** A Lua script with its SHA-1, run with `EVALSHA` and re-sent with `EVAL` after `NOSCRIPT`. */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/**
 * Hash layout of one session (`<prefix>{<key>}`):
 * - `m:deadline` → absolute cap in server milliseconds, `0` for none. Always present, so the hash
 *   (and thus the session) survives the removal of its last field: Redis deletes empty hashes.
 * - `f:<field>` → `<expiresAtMs>:<value bytes>`. Value and field expiry live in one entry so a read
 *   or write touches exactly one hash entry. User fields are always `f:`-prefixed, so no field name
 *   (`m:deadline`, `__proto__`, anything with `:`) can collide with metadata.
 *
 * Times come from `TIME` (the server clock) and the session expiry is the key's own PEXPIRE, so
 * Redis expires the whole session and a field can never outlive it.
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n) return string.format('%.0f', n) end
-- Expiry of a field entry and the position of the ':' that ends it.
local function expiry_of(entry)
  local colon = string.find(entry, ':', 1, true)
  return tonumber(string.sub(entry, 1, colon - 1)), colon
end
-- Move the session expiry forward to target (never back, never past the deadline).
local function extend(key, now, target)
  local deadline = tonumber(redis.call('HGET', key, 'm:deadline') or '0')
  if deadline > 0 and target > deadline then target = deadline end
  local pttl = redis.call('PTTL', key)
  if pttl >= 0 and target <= now + pttl then return 0 end
  redis.call('PEXPIREAT', key, ms(target))
  return 1
end
-- Sliding refresh of reads: only when less than ttl - threshold remains.
local function touch(key, now, ttl, threshold)
  if ttl == '' then return 0 end
  if redis.call('PTTL', key) > tonumber(ttl) - tonumber(threshold) then return 0 end
  return extend(key, now, now + tonumber(ttl))
end
-- Recreate a session taken from another key (Cluster rename). Lifetimes arrive as the source
-- server's clock reading plus absolute times on that clock; they are rebased onto this server's
-- clock so clock skew between cluster nodes cannot shorten or lengthen them.
local function place(key, now, args, first)
  local delta = now - tonumber(args[first])
  local pttl = tonumber(args[first + 1])
  if pttl < 1 then pttl = 1 end
  for i = first + 2, #args, 2 do
    local name, entry = args[i], args[i + 1]
    if name == 'm:deadline' then
      local deadline = tonumber(entry)
      if deadline > 0 then deadline = deadline + delta end
      redis.call('HSET', key, name, ms(deadline))
    elseif string.sub(name, 1, 2) == 'f:' then
      local expires, colon = expiry_of(entry)
      if expires + delta > now then redis.call('HSET', key, name, ms(expires + delta) .. string.sub(entry, colon)) end
    end
  end
  redis.call('PEXPIREAT', key, ms(now + pttl))
end
`

function script(name: string, body: string): Script {
  const source = `${PRELUDE}\n${body}`
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/** KEYS: session. ARGV: field, touch ttl ms (`''` for none), touch threshold ms. → {live, pttl, touched, value|nil} */
export const GET = script(
  'get',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
local now = now_ms()
local touched = touch(key, now, ARGV[2], ARGV[3])
local name = 'f:' .. ARGV[1]
local entry = redis.call('HGET', key, name)
local value = false
if entry then
  local expires, colon = expiry_of(entry)
  if expires > now then value = string.sub(entry, colon + 1) else redis.call('HDEL', key, name) end
end
return {1, redis.call('PTTL', key), touched, value}
`,
)

/** KEYS: session. ARGV: touch ttl ms, touch threshold ms. → {live, pttl, touched, name1, value1, …} */
export const GET_ALL = script(
  'getAll',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
local now = now_ms()
local reply = {1, 0, touch(key, now, ARGV[1], ARGV[2])}
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local name, entry = all[i], all[i + 1]
  if string.sub(name, 1, 2) == 'f:' then
    local expires, colon = expiry_of(entry)
    if expires > now then
      reply[#reply + 1] = string.sub(name, 3)
      reply[#reply + 1] = string.sub(entry, colon + 1)
    else
      -- Expired entries are only reclaimed here and by the key's own expiry, so writes stay O(1).
      redis.call('HDEL', key, name)
    end
  end
end
reply[2] = redis.call('PTTL', key)
return reply
`,
)

/**
 * KEYS: target [, source to rename from (standalone)].
 * ARGV: mode, session, field, value, field ttl ms, session ttl ms, max lifetime ms (0 = none),
 * then optionally a session taken from another node (source clock, pttl, name/entry pairs).
 * → {status[, pttl, touched]}; status 0 missing, 1 written, 2 exists, 3 collision.
 */
export const WRITE = script(
  'write',
  `
local key = KEYS[1]
local now = now_ms()
local touched = 0
if ARGV[2] == 'create' then
  if redis.call('EXISTS', key) == 1 then return {3} end
  local deadline = 0
  local expires = now + tonumber(ARGV[6])
  if tonumber(ARGV[7]) > 0 then
    deadline = now + tonumber(ARGV[7])
    if expires > deadline then expires = deadline end
  end
  redis.call('HSET', key, 'm:deadline', ms(deadline))
  redis.call('PEXPIREAT', key, ms(expires))
  touched = 1
elseif KEYS[2] then
  if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
  if redis.call('EXISTS', key) == 1 then return {3} end
  -- RENAME keeps the TTL, and both keys are checked and moved in this one atomic script.
  redis.call('RENAME', KEYS[2], key)
elseif #ARGV > 7 then
  if redis.call('EXISTS', key) == 1 then return {3} end
  place(key, now, ARGV, 8)
elseif redis.call('EXISTS', key) == 0 then
  return {0}
end
local name = 'f:' .. ARGV[3]
if ARGV[1] == 'insert' then
  local entry = redis.call('HGET', key, name)
  if entry and expiry_of(entry) > now then return {2, redis.call('PTTL', key), 0} end
end
redis.call('HSET', key, name, ms(now + tonumber(ARGV[5])) .. ':' .. ARGV[4])
if extend(key, now, now + tonumber(ARGV[6])) == 1 then touched = 1 end
return {1, redis.call('PTTL', key), touched}
`,
)

/** KEYS: session. ARGV: field. → {live[, pttl, removed]} */
export const REMOVE = script(
  'remove',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
local name = 'f:' .. ARGV[1]
local entry = redis.call('HGET', key, name)
local removed = 0
if entry then
  if expiry_of(entry) > now_ms() then removed = 1 end
  redis.call('HDEL', key, name)
end
return {1, redis.call('PTTL', key), removed}
`,
)

/** KEYS: session. → 1 when a live session was deleted. */
export const DELETE = script('delete', `return redis.call('DEL', KEYS[1])`)

/** KEYS: session. ARGV: lifetime ms (≤ 0 deletes). → {live[, pttl]} */
export const EXPIRE = script(
  'expire',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
local lifetime = tonumber(ARGV[1])
if lifetime <= 0 then
  redis.call('DEL', key)
  return {0}
end
local now = now_ms()
local target = now + lifetime
local deadline = tonumber(redis.call('HGET', key, 'm:deadline') or '0')
if deadline > 0 and target > deadline then target = deadline end
redis.call('PEXPIREAT', key, ms(target))
return {1, redis.call('PTTL', key)}
`,
)

/** Standalone rename. KEYS: source, target. → {status[, pttl]}; 0 missing, 1 renamed, 3 collision. */
export const RENAME = script(
  'rename',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {3} end
redis.call('RENAME', KEYS[1], KEYS[2])
return {1, redis.call('PTTL', KEYS[2])}
`,
)

/**
 * Cluster rename, step 1 on the source's node: read and delete the session in one atomic step.
 * KEYS: source. → {0} or {1, server ms, pttl, name1, entry1, …}
 */
export const TAKE = script(
  'take',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
local reply = {1, ms(now_ms()), redis.call('PTTL', key)}
local all = redis.call('HGETALL', key)
for i = 1, #all do reply[#reply + 1] = all[i] end
redis.call('DEL', key)
return reply
`,
)

/**
 * Cluster rename, step 2 on the target's node: create the session only when the key is not live.
 * Also used to put a taken session back after a collision. KEYS: target. ARGV: as `TAKE` replied
 * (server ms, pttl, pairs). → {status[, pttl]}; 1 placed, 3 collision.
 */
export const PLACE = script(
  'place',
  `
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then return {3} end
place(key, now_ms(), ARGV, 1)
return {1, redis.call('PTTL', key)}
`,
)
