/**
 * Lua shared by the scripts that keep subjects (SPEC §13). Scripts that need it start their body with
 * it (as the write script does with `INTEGERS`), so the other scripts do not pay for defining it.
 *
 * The index of a subject is a sorted set at `<prefix>subject:{<SHA-256 of the subject>}` (a hash, so
 * no user id appears in a key name, where MONITOR, SLOWLOG and key scans would show it). Its hash tag
 * puts the whole index in one Cluster slot; the subject's sessions live in any slot. Members are
 * session keys (the store key inside a session's hash tag); a member's score is the time until which
 * the entry is presumed live: the session's expiry as last seen (plus a hold on a Cluster, see
 * `cluster-subjects.ts`). Sessions are extended by writes that never touch the index, so a score may
 * lag behind: an entry whose score has passed is only a candidate, checked against its session
 * before it is pruned, and its score moves up when the session is still live.
 *
 * Markers (Cluster only; on a standalone server every step is one script and needs none). A key with
 * one of these holds no session; every script treats it as absent, and it carries a short TTL:
 * - `m:moved` → the key a bound session is being moved to, next to the move's `m:taken` tombstone
 *   (written by the move's first step, `TAKE`): a revocation that finds it follows it to the target;
 * - `m:revoked` → a revocation ended this key, or a move in flight to it: placing a session here
 *   (`PLACE`, a write carrying a taken session, a bind) fails as if the session were gone, and so
 *   does a give-back (the move's `m:taken` token is gone with the marker it replaced).
 */
export const SUBJECT_LUA = `
-- The index keeps a TTL (every key has one) this far past its newest entry's presumed expiry, so
-- an index outlives sessions kept alive by writes alone for 400 days without a bind or list.
local INDEX_SLACK = 34560000000
-- The store key of a session key: what an index holds.
local function member_of(key) return string.match(key, '{([^{}]*)}$') end
-- The session key of an index's member. The prefix comes from the index's own name as the server
-- got it, so a prefix a client adds to every key (ioredis keyPrefix) is part of it.
local function session_key(index, member)
  return string.match(index, '^(.*)subject:{[^{}]*}$') .. '{' .. member .. '}'
end
local function keep_index(index)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', index, ms(tonumber(top[2]) + INDEX_SLACK)) end
end
local function revoked(key) return redis.call('HEXISTS', key, 'm:revoked') == 1 end
-- Replace whatever the key holds by one marker entry for hold ms.
local function mark(key, name, value, hold)
  redis.call('DEL', key)
  redis.call('HSET', key, name, value)
  redis.call('PEXPIRE', key, hold)
end
-- Standalone only (the index is another slot on a Cluster): a bound session moved from one key to
-- another is listed under the new key, in the same script as the move.
local function follow_in_index(index, from, to, at)
  if not index then return end
  redis.call('ZREM', index, member_of(from))
  redis.call('ZADD', index, ms(at), member_of(to))
  keep_index(index)
end
-- The entries of a live session that an index entry names, as HMGET m:expires, m:index, m:created,
-- m:active, m:meta, when it is live and bound to that index; nil otherwise. Also its key.
local function bound_session(index, member, now)
  local key = session_key(index, member)
  local entries = redis.call('HMGET', key, 'm:expires', 'm:index', 'm:created', 'm:active', 'm:meta')
  if not live_until(key, entries[1], now) or entries[2] ~= index then return nil, key end
  return entries, key
end
`

/**
 * Read a session and replace it with a move's tombstone in one atomic step (Cluster moves, see
 * `TAKE`): `m:taken` → the move's token, and for a bound session `m:moved` → the target's store key,
 * for `hold` ms. Shared by `TAKE` and the Cluster bind's first step; comes after {@link SUBJECT_LUA}.
 */
export const TAKE_LUA = `
local function take(key, all, now, at, token, to, hold)
  local reply = {OK, ms(now), ms(at)}
  for i = 1, #all do reply[#reply + 1] = all[i] end
  redis.call('DEL', key)
  if lookup(all, 'm:index') then
    redis.call('HSET', key, 'm:taken', token, 'm:moved', to, 'm:at', ms(now))
  else
    redis.call('HSET', key, 'm:taken', token)
  end
  redis.call('PEXPIRE', key, hold)
  return reply
end
`
