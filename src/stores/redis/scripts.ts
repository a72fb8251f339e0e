import { createHash } from 'node:crypto'

/** A Lua script with its SHA-1, run with `EVALSHA` and re-sent with `EVAL` after `NOSCRIPT`. */
export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/**
 * Hash layout of one session (`<prefix>{<key>}`):
 * - `m:expires` → the session's expiry in server milliseconds; the key carries the same time as
 *   its PEXPIREAT, so Redis itself drops the whole session and a field can never outlive it. It is
 *   kept in the hash too so every `ttl` reply is `expires - now` on one clock reading (TIME): PTTL
 *   ticks on separately and could report 3599.999 s right after a 3600 s write.
 * - `m:deadline` → the absolute cap from `maxLifetime`, `0` for none.
 * - `f:<field>` → `<expiresAtMs>:<value bytes>`. Value and field expiry live in one entry so a read
 *   or write touches exactly one hash entry. User fields are always `f:`-prefixed, so no field name
 *   (`m:expires`, `__proto__`, anything with `:`) can collide with metadata.
 * The `m:` entries are always present, so the hash survives the removal of its last field.
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
local function set_expiry(key, at)
  redis.call('HSET', key, 'm:expires', ms(at))
  redis.call('PEXPIREAT', key, ms(at))
end
-- The session's expiry, or nil when there is no live session. A key Redis has not dropped yet
-- but whose time has come counts as absent (and is dropped now), as in every other store.
local function live_until(key, now)
  local at = tonumber(redis.call('HGET', key, 'm:expires') or '0')
  if at == 0 then return nil end
  if at <= now then
    redis.call('DEL', key)
    return nil
  end
  return at
end
-- Move the session expiry forward to target (never back, never past the deadline).
-- Returns the expiry afterwards and 1 when it moved.
local function extend(key, at, target)
  local deadline = tonumber(redis.call('HGET', key, 'm:deadline') or '0')
  if deadline > 0 and target > deadline then target = deadline end
  if target <= at then return at, 0 end
  set_expiry(key, target)
  return target, 1
end
-- Sliding refresh of reads: only when no more than ttl - threshold remains.
local function touch(key, now, at, ttl, threshold)
  if ttl == '' or at - now > tonumber(ttl) - tonumber(threshold) then return at, 0 end
  return extend(key, at, now + tonumber(ttl))
end
-- Recreate a session taken from another key (Cluster rename). Times arrive on the source
-- server's clock together with its reading of that clock; they are rebased onto this server's
-- clock so clock skew between cluster nodes cannot shorten or lengthen them.
local function place(key, now, args, first)
  local delta = now - tonumber(args[first])
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
  local at = tonumber(args[first + 1]) + delta
  if at <= now then at = now + 1 end
  set_expiry(key, at)
  return at
end
`

function script(name: string, body: string): Script {
  const source = `${PRELUDE}\n${body}`
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/** KEYS: session. ARGV: field, touch ttl ms (`''` for none), touch threshold ms. → {live, ttl, touched, value|nil} */
export const GET = script(
  'get',
  `
local key = KEYS[1]
local now = now_ms()
local at = live_until(key, now)
if not at then return {0} end
local touched
at, touched = touch(key, now, at, ARGV[2], ARGV[3])
local name = 'f:' .. ARGV[1]
local entry = redis.call('HGET', key, name)
local value = false
if entry then
  local expires, colon = expiry_of(entry)
  if expires > now then value = string.sub(entry, colon + 1) else redis.call('HDEL', key, name) end
end
return {1, at - now, touched, value}
`,
)

/** KEYS: session. ARGV: touch ttl ms, touch threshold ms. → {live, ttl, touched, name1, value1, …} */
export const GET_ALL = script(
  'getAll',
  `
local key = KEYS[1]
local now = now_ms()
local at = live_until(key, now)
if not at then return {0} end
local touched
at, touched = touch(key, now, at, ARGV[1], ARGV[2])
local reply = {1, at - now, touched}
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
return reply
`,
)

/**
 * KEYS: target [, source to rename from (standalone)].
 * ARGV: mode, session, field, value, field ttl ms, session ttl ms, max lifetime ms (0 = none),
 * then optionally a session taken from another node (as `TAKE` replied).
 * → {status[, ttl, touched]}; status 0 missing, 1 written, 2 exists, 3 collision.
 */
export const WRITE = script(
  'write',
  `
local key = KEYS[1]
local now = now_ms()
local at
local touched = 0
if ARGV[2] == 'create' then
  if live_until(key, now) then return {3} end
  local deadline = 0
  at = now + tonumber(ARGV[6])
  if tonumber(ARGV[7]) > 0 then
    deadline = now + tonumber(ARGV[7])
    if at > deadline then at = deadline end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, 'm:deadline', ms(deadline))
  set_expiry(key, at)
  touched = 1
elseif KEYS[2] then
  at = live_until(KEYS[2], now)
  if not at then return {0} end
  if live_until(key, now) then return {3} end
  -- RENAME keeps the TTL and the hash; both keys are checked and moved in this one atomic script.
  redis.call('RENAME', KEYS[2], key)
elseif #ARGV > 7 then
  if live_until(key, now) then return {3} end
  redis.call('DEL', key)
  at = place(key, now, ARGV, 8)
else
  at = live_until(key, now)
  if not at then return {0} end
end
local name = 'f:' .. ARGV[3]
if ARGV[1] == 'insert' then
  local entry = redis.call('HGET', key, name)
  if entry and expiry_of(entry) > now then return {2, at - now, 0} end
end
redis.call('HSET', key, name, ms(now + tonumber(ARGV[5])) .. ':' .. ARGV[4])
local moved
at, moved = extend(key, at, now + tonumber(ARGV[6]))
return {1, at - now, math.max(touched, moved)}
`,
)

/** KEYS: session. ARGV: field. → {live[, ttl, removed]} */
export const REMOVE = script(
  'remove',
  `
local key = KEYS[1]
local now = now_ms()
local at = live_until(key, now)
if not at then return {0} end
local name = 'f:' .. ARGV[1]
local entry = redis.call('HGET', key, name)
local removed = 0
if entry then
  if expiry_of(entry) > now then removed = 1 end
  redis.call('HDEL', key, name)
end
return {1, at - now, removed}
`,
)

/** KEYS: session. → 1 when a live session was deleted. */
export const DELETE = script(
  'delete',
  `
local live = live_until(KEYS[1], now_ms())
redis.call('DEL', KEYS[1])
if live then return 1 end
return 0
`,
)

/** KEYS: session. ARGV: lifetime ms (≤ 0 deletes). → {live[, ttl]} */
export const EXPIRE = script(
  'expire',
  `
local key = KEYS[1]
local now = now_ms()
if not live_until(key, now) then return {0} end
local lifetime = tonumber(ARGV[1])
if lifetime <= 0 then
  redis.call('DEL', key)
  return {0}
end
local at = now + lifetime
local deadline = tonumber(redis.call('HGET', key, 'm:deadline') or '0')
if deadline > 0 and at > deadline then at = deadline end
set_expiry(key, at)
return {1, at - now}
`,
)

/** Standalone rename. KEYS: source, target. → {status[, ttl]}; 0 missing, 1 renamed, 3 collision. */
export const RENAME = script(
  'rename',
  `
local now = now_ms()
local at = live_until(KEYS[1], now)
if not at then return {0} end
if live_until(KEYS[2], now) then return {3} end
redis.call('RENAME', KEYS[1], KEYS[2])
return {1, at - now}
`,
)

/**
 * Cluster rename, step 1 on the source's node: read and delete the session in one atomic step.
 * KEYS: source. → {0} or {1, server ms, expiry ms, name1, entry1, …}
 */
export const TAKE = script(
  'take',
  `
local key = KEYS[1]
local now = now_ms()
local at = live_until(key, now)
if not at then return {0} end
local reply = {1, ms(now), ms(at)}
local all = redis.call('HGETALL', key)
for i = 1, #all do reply[#reply + 1] = all[i] end
redis.call('DEL', key)
return reply
`,
)

/**
 * Cluster rename, step 2 on the target's node: create the session only when the key is not live.
 * Also puts a taken session back after a collision. KEYS: target. ARGV: as `TAKE` replied.
 * → {status[, ttl]}; 1 placed, 3 collision.
 */
export const PLACE = script(
  'place',
  `
local key = KEYS[1]
local now = now_ms()
if live_until(key, now) then return {3} end
redis.call('DEL', key)
local at = place(key, now, ARGV, 1)
return {1, at - now}
`,
)
