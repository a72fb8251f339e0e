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
-- A number as read from the hash (false when absent), 0 for absent.
local function num(v) return tonumber(v or '0') end
-- Append a name/value pair to a flat list (HSET arguments, a reply).
local function push(list, name, value)
  list[#list + 1] = name
  list[#list + 1] = value
end
-- Run HSET (name/value pairs) or HDEL (names) over a whole list: one call per 1,000 arguments,
-- because unpack cannot spread more than about 8,000 values into one call.
local function call_with(command, key, list)
  for i = 1, #list, 1000 do redis.call(command, key, unpack(list, i, math.min(i + 999, #list))) end
end
-- Expiry of a field entry and the position of the ':' that ends it.
local function expiry_of(entry)
  local colon = string.find(entry, ':', 1, true)
  return tonumber(string.sub(entry, 1, colon - 1)), colon
end
local function set_expiry(key, at)
  redis.call('HSET', key, 'm:expires', ms(at))
  redis.call('PEXPIREAT', key, ms(at))
end
-- m:expires, m:deadline and, when name is given, that entry, in one HMGET (false when absent).
local function read(key, name)
  if name then return redis.call('HMGET', key, 'm:expires', 'm:deadline', name) end
  return redis.call('HMGET', key, 'm:expires', 'm:deadline')
end
-- The session's expiry from its m:expires as read, or nil when there is no live session. A key
-- Redis has not dropped yet but whose time has come counts as absent (and is dropped now), as in
-- every other store.
local function live_until(key, expires, now)
  local at = num(expires)
  if at == 0 then return nil end
  if at <= now then
    redis.call('DEL', key)
    return nil
  end
  return at
end
-- live_until for a key whose m:expires has not been read yet.
local function live_key(key, now)
  return live_until(key, redis.call('HGET', key, 'm:expires'), now)
end
-- Move the session expiry at forward to target (never back, never past the deadline, 0 = none).
-- Returns the expiry afterwards and 1 when it moved; the caller stores a moved expiry.
local function extended(at, deadline, target)
  if deadline > 0 and target > deadline then target = deadline end
  if target <= at then return at, 0 end
  return target, 1
end
-- Sliding refresh of reads: only when no more than ttl - threshold remains. Stores the new expiry.
local function touch(key, now, at, deadline, ttl, threshold)
  if ttl == '' or at - now > tonumber(ttl) - tonumber(threshold) then return at, 0 end
  local moved
  at, moved = extended(at, deadline, now + tonumber(ttl))
  if moved == 1 then set_expiry(key, at) end
  return at, moved
end
-- The value of name in a flat name/value list such as an HGETALL reply (false when absent).
local function lookup(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
  return false
end
-- A session taken from another key (Cluster rename), rebased for this key. Times arrive on the
-- source server's clock together with its reading of that clock; they are rebased onto this
-- server's clock so clock skew between cluster nodes cannot shorten or lengthen them. Expired
-- fields are left out. Returns the m:deadline and field entries as HSET pairs (without
-- m:expires), the session's expiry and its deadline. Nothing is written here.
local function rebase(now, args, first)
  local delta = now - tonumber(args[first])
  local entries, deadline = {}, 0
  for i = first + 2, #args, 2 do
    local name, entry = args[i], args[i + 1]
    if name == 'm:deadline' then
      deadline = tonumber(entry)
      if deadline > 0 then deadline = deadline + delta end
      push(entries, name, ms(deadline))
    elseif string.sub(name, 1, 2) == 'f:' then
      local expires, colon = expiry_of(entry)
      if expires + delta > now then push(entries, name, ms(expires + delta) .. string.sub(entry, colon)) end
    end
  end
  local at = tonumber(args[first + 1]) + delta
  if at <= now then at = now + 1 end
  return entries, at, deadline
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
local name = 'f:' .. ARGV[1]
local now = now_ms()
local meta = read(key, name)
local at = live_until(key, meta[1], now)
if not at then return {0} end
local touched
at, touched = touch(key, now, at, num(meta[2]), ARGV[2], ARGV[3])
local entry = meta[3]
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
local all = redis.call('HGETALL', key)
local reply, expired = {1, 0, 0}, {}
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
if not at then return {0} end
-- Expired entries are only reclaimed here and by the key's own expiry, so writes stay O(1).
call_with('HDEL', key, expired)
at, reply[3] = touch(key, now, at, num(deadline), ARGV[1], ARGV[2])
reply[2] = at - now
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
local name = 'f:' .. ARGV[3]
local insert = ARGV[1] == 'insert'
local now = now_ms()
local at, deadline, entry
-- Pairs to HSET before m:expires and the field; stored is 1 when m:expires must be (re)written.
local writes = {}
local stored = 0
local touched = 0
if ARGV[2] == 'create' then
  if live_key(key, now) then return {3} end
  deadline = 0
  at = now + tonumber(ARGV[6])
  if tonumber(ARGV[7]) > 0 then
    deadline = now + tonumber(ARGV[7])
    if at > deadline then at = deadline end
  end
  redis.call('DEL', key)
  push(writes, 'm:deadline', ms(deadline))
  stored = 1
  touched = 1
elseif KEYS[2] then
  local meta = read(KEYS[2], insert and name)
  at = live_until(KEYS[2], meta[1], now)
  if not at then return {0} end
  if live_key(key, now) then return {3} end
  -- RENAME keeps the TTL and the hash; both keys are checked and moved in this one atomic script.
  redis.call('RENAME', KEYS[2], key)
  deadline, entry = num(meta[2]), meta[3]
elseif #ARGV > 7 then
  if live_key(key, now) then return {3} end
  redis.call('DEL', key)
  writes, at, deadline = rebase(now, ARGV, 8)
  entry = lookup(writes, name)
  stored = 1
else
  local meta = read(key, insert and name)
  at = live_until(key, meta[1], now)
  if not at then return {0} end
  deadline, entry = num(meta[2]), meta[3]
end
if insert and entry and expiry_of(entry) > now then
  -- Nothing to write but a session placed from another node.
  if stored == 1 then
    push(writes, 'm:expires', ms(at))
    call_with('HSET', key, writes)
    redis.call('PEXPIREAT', key, ms(at))
  end
  return {2, at - now, 0}
end
local moved
at, moved = extended(at, deadline, now + tonumber(ARGV[6]))
stored = math.max(stored, moved)
if stored == 1 then push(writes, 'm:expires', ms(at)) end
push(writes, name, ms(now + tonumber(ARGV[5])) .. ':' .. ARGV[4])
call_with('HSET', key, writes)
if stored == 1 then redis.call('PEXPIREAT', key, ms(at)) end
return {1, at - now, math.max(touched, moved)}
`,
)

/** KEYS: session. ARGV: field. → {live[, ttl, removed]} */
export const REMOVE = script(
  'remove',
  `
local key = KEYS[1]
local name = 'f:' .. ARGV[1]
local now = now_ms()
local meta = redis.call('HMGET', key, 'm:expires', name)
local at = live_until(key, meta[1], now)
if not at then return {0} end
local entry = meta[2]
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
local live = live_key(KEYS[1], now_ms())
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
local meta = read(key)
if not live_until(key, meta[1], now) then return {0} end
local lifetime = tonumber(ARGV[1])
if lifetime <= 0 then
  redis.call('DEL', key)
  return {0}
end
local at = now + lifetime
local deadline = num(meta[2])
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
local at = live_key(KEYS[1], now)
if not at then return {0} end
if live_key(KEYS[2], now) then return {3} end
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
local all = redis.call('HGETALL', key)
local at = live_until(key, lookup(all, 'm:expires'), now)
if not at then return {0} end
local reply = {1, ms(now), ms(at)}
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
if live_key(key, now) then return {3} end
redis.call('DEL', key)
local writes, at = rebase(now, ARGV, 1)
push(writes, 'm:expires', ms(at))
call_with('HSET', key, writes)
redis.call('PEXPIREAT', key, ms(at))
return {1, at - now}
`,
)
