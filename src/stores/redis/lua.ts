/**
 * Lua shared by every session script. Each script's source is this prelude, the status constants
 * (see `script.ts`) and its own body, so the helpers exist once and scripts stay short.
 */

/**
 * Hash layout of one session (`<prefix>{<key>}`):
 * - `m:expires` → the session's expiry in server milliseconds; the key carries the same time as
 *   its PEXPIREAT, so Redis itself drops the whole session and a field can never outlive it. It is
 *   kept in the hash too so every `ttl` reply is `expires - now` on one clock reading (TIME): PTTL
 *   ticks on separately and could report 3599.999 s right after a 3600 s write.
 * - `m:deadline` → the absolute cap from `maxLifetime`, `0` for none.
 * - `m:created` → when the session was created; `m:active` → when a write, a lifetime refresh or a
 *   bind last reached it (SPEC §13's `lastActiveAt`). Both in server milliseconds, written as extra
 *   pairs of the HSET a script does anyway.
 * - `m:subject`, `m:meta`, `m:index` → only on a session bound to a subject: the subject, its meta
 *   JSON, and the Redis key of the subject's index (see `subject-lua.ts`).
 * - `m:soonest` → no live field expires before this time (server milliseconds): a lower bound kept by
 *   every field write, made exact when a full session's expired fields are reclaimed (see
 *   {@link FIELD_LIMIT}). Absent when unknown (a session from an older version, or bound before its
 *   first field).
 * - `f:<field>` → `<expiresAtMs>:<value bytes>`. Value and field expiry live in one entry so a read
 *   or write touches exactly one hash entry. User fields are always `f:`-prefixed, so no field name
 *   (`m:expires`, `__proto__`, anything with `:`) can collide with metadata.
 * The `m:expires` and `m:deadline` entries are always present, so the hash survives the removal of
 * its last field. On a Cluster the key can also hold, for a short time, no session but a marker
 * (`m:moved` or `m:revoked`, see `subject-lua.ts`); every script treats such a key as absent.
 */
export const PRELUDE = `
-- m:soonest of a session without fields: later than any expiry.
local NEVER = 9007199254740991
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Whole milliseconds (and counters) as text: '%d' formats an integer, where '%.0f' took glibc's
-- exact floating-point path (about 1.4 µs of Redis CPU per write, measured).
local function ms(n) return string.format('%d', n) end
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
-- A new expiry is a lifetime refresh, so it also marks the session active (m:active).
local function set_expiry(key, at, now)
  redis.call('HSET', key, 'm:expires', ms(at), 'm:active', ms(now))
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
  if moved == 1 then set_expiry(key, at, now) end
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
-- fields are left out. Returns the m:deadline, subject (m:subject, m:meta, m:index, m:created,
-- m:active), m:soonest (exact) and field entries as HSET pairs (without m:expires), the session's
-- expiry, its deadline, how many fields it kept and the soonest expiry among them. Nothing is
-- written here.
local function rebase(now, args, first)
  local delta = now - tonumber(args[first])
  local entries, deadline, count, soonest = {}, 0, 0, NEVER
  for i = first + 2, #args, 2 do
    local name, entry = args[i], args[i + 1]
    if name == 'm:deadline' then
      deadline = tonumber(entry)
      if deadline > 0 then deadline = deadline + delta end
      push(entries, name, ms(deadline))
    elseif name == 'm:created' or name == 'm:active' then
      push(entries, name, ms(tonumber(entry) + delta))
    elseif name == 'm:subject' or name == 'm:meta' or name == 'm:index' then
      push(entries, name, entry)
    elseif string.sub(name, 1, 2) == 'f:' then
      local expires, colon = expiry_of(entry)
      if expires + delta > now then
        push(entries, name, ms(expires + delta) .. string.sub(entry, colon))
        count = count + 1
        if expires + delta < soonest then soonest = expires + delta end
      end
    end
  end
  push(entries, 'm:soonest', ms(soonest))
  local at = tonumber(args[first + 1]) + delta
  if at <= now then at = now + 1 end
  return entries, at, deadline, count, soonest
end
-- Create the session at key from a taken session in args (from position first, as for rebase),
-- replacing whatever the key held. Returns the session's expiry.
local function place_taken(key, now, args, first)
  redis.call('DEL', key)
  local writes, at = rebase(now, args, first)
  push(writes, 'm:expires', ms(at))
  call_with('HSET', key, writes)
  redis.call('PEXPIREAT', key, ms(at))
  return at
end
`

/**
 * The field limit (`maxFields`) of the scripts that add fields. Cheap on the common path: one `HLEN`,
 * which counts the fields plus the metadata entries (two at least). Only a hash that reaches the
 * limit is looked at closely, and only when a field may have expired (`m:soonest` has come, or is
 * unknown) are its entries read, expired ones deleted and `m:soonest` made exact; a refused write
 * to a full session without expired fields stays O(1), however often it is retried.
 */
export const FIELD_LIMIT = `
-- Metadata a session may hold besides m:expires and m:deadline, which it always holds.
local OPTIONAL_META = {'m:created', 'm:active', 'm:subject', 'm:meta', 'm:index', 'm:soonest'}
-- Whether the live session at key has room for field name under limit (text, '0' for none). known
-- is true when the caller read the field's entry and found it absent or expired; otherwise a live
-- entry found here means the write adds nothing (room). May reclaim expired fields: then its second
-- result is the exact m:soonest it stored, which the caller's write must keep a lower bound (the m:soonest
-- the caller read before may be older, and lower than what is stored now).
local function has_room(key, name, limit, now, known)
  if limit == '0' then return true end
  limit = tonumber(limit)
  local count = redis.call('HLEN', key) - 2
  if count < limit then return true end
  if not known then
    local entry = redis.call('HGET', key, name)
    if entry and expiry_of(entry) > now then return true end
  end
  local meta = redis.call('HMGET', key, unpack(OPTIONAL_META))
  for i = 1, #meta do
    if meta[i] then count = count - 1 end
  end
  if count < limit then return true end
  local soonest = meta[#meta]
  if soonest and tonumber(soonest) > now then return false end
  local all = redis.call('HGETALL', key)
  local expired = {}
  count, soonest = 0, NEVER
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'f:' then
      local expires = expiry_of(all[i + 1])
      if expires > now then
        count = count + 1
        if expires < soonest then soonest = expires end
      else
        expired[#expired + 1] = all[i]
      end
    end
  end
  call_with('HDEL', key, expired)
  redis.call('HSET', key, 'm:soonest', ms(soonest))
  return count < limit, ms(soonest)
end
-- Add the pair that keeps m:soonest a lower bound to writes, for a field written to expire at
-- expires; current is m:soonest as read (false when unknown: it stays unknown).
local function push_soonest(writes, current, expires)
  if current and expires < tonumber(current) then push(writes, 'm:soonest', ms(expires)) end
end
`

/**
 * Scripts only (the `EVALSHA` path, see `runner.ts`): put staged session data back into `ARGV`.
 * Functions (`FCALL`) get their arguments directly and do not include it.
 */
export const UNSTAGE = `
-- Session data (a value, a taken session) never travels as a script argument: Redis client
-- instrumentations record every EVAL/EVALSHA argument. The runner sends it in a list at one extra,
-- last key (position/value pairs, pushed in the same pipeline) and leaves '' at those positions;
-- this puts it back into ARGV and deletes the list before the script proper runs. Session keys end
-- with the '}' of their hash tag and a staging list's name never does, which is how it is told apart
-- (so a script's source, and its SHA, does not depend on whether the call staged anything).
local function unstage()
  local staged = KEYS[#KEYS]
  if not staged or string.sub(staged, -1) == '}' then return end
  table.remove(KEYS)
  local entries = redis.call('LRANGE', staged, 0, -1)
  if #entries == 0 then error('ruts: staged arguments missing') end
  redis.call('DEL', staged)
  for i = 1, #entries, 2 do ARGV[tonumber(entries[i])] = entries[i + 1] end
end
`

/**
 * Integers in a codec's integer format (see `src/core/integers.ts`), for the write script's
 * increment mode: decoded from a field value, added to, encoded back exactly as the codec would
 * have written them. MessagePack goes through Redis's bundled `struct` library.
 */
export const INTEGERS = `
local SAFE = 9007199254740991
-- The safe integer a field value holds, or nil.
local function decode_int(v, format)
  local n
  if format == 'json' then
    if #v > 17 or not (v == '0' or string.match(v, '^%-?[1-9]%d*$')) then return nil end
    n = tonumber(v)
  else
    local head, size = string.byte(v, 1), #v
    if not head then return nil end
    if size == 1 and (head < 128 or head >= 224) then
      n = head < 128 and head or head - 256
    else
      local layout = ({[204] = {2, '>B'}, [205] = {3, '>H'}, [206] = {5, '>I4'}, [208] = {2, '>b'},
        [209] = {3, '>h'}, [210] = {5, '>i4'}, [203] = {9, '>d'}})[head]
      if not layout or layout[1] ~= size then return nil end
      n = struct.unpack(layout[2], v, 2)
      if n ~= math.floor(n) then return nil end
    end
  end
  if math.abs(n) > SAFE then return nil end
  return n
end
-- A safe integer spelled as the codec spells it.
local function encode_int(n, format)
  if format == 'json' then return ms(n) end
  if n >= 0 then
    if n < 128 then return string.char(n) end
    if n < 256 then return struct.pack('>BB', 204, n) end
    if n < 65536 then return struct.pack('>BH', 205, n) end
    if n < 4294967296 then return struct.pack('>BI4', 206, n) end
  else
    if n >= -32 then return string.char(n + 256) end
    if n >= -128 then return struct.pack('>Bb', 208, n) end
    if n >= -32768 then return struct.pack('>Bh', 209, n) end
    if n >= -2147483648 then return struct.pack('>Bi4', 210, n) end
  end
  return struct.pack('>Bd', 203, n)
end
`

/**
 * How long the tombstone a Cluster move's `TAKE` leaves at the old key lives (ms): longer than any
 * step of the same move can still arrive (the store's timeout plus a client's redirection retries).
 */
export const TOMBSTONE_MS = 60_000
