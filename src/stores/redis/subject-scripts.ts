import type { BindOptions, BindResult, SubjectRead } from '../../core/store.js'
import { bytes, list, liveSession, text } from './replies.js'
import { defineScript, milliseconds, type ScriptCall, type Status, statusOf } from './script.js'
import { SUBJECT_LUA } from './subject-lua.js'

/**
 * Subjects on a standalone server (or Sentinel): every operation is one script that touches the
 * session keys and the subject's index together, so each is atomic and no marker is needed. The
 * scripts reach session keys named by the index (and the index named by a session) without
 * declaring them, which a standalone server allows and a Cluster does not; the Cluster takes the
 * steps of `cluster-subjects.ts` instead.
 */

/** How many index entries whose score has passed a bind checks (and prunes or refreshes) at most. */
export const PRUNE_BATCH = 16

/** Input of {@link BIND}. */
export interface BindInput {
  /** Redis key of the target (the bound session's key unless it is `kept`). */
  readonly key: string
  /** Redis key of the session to bind (`session: 'existing'`). */
  readonly from?: string | undefined
  /** Redis key of the subject's index. */
  readonly index: string
  readonly options: BindOptions
}

/** The strings of a reply from `first` on. */
function texts(elements: readonly unknown[], first = 0): string[] {
  return elements.slice(first).map(text)
}

/** Parse `{OK|KEPT, ttl, touched, ended…} | {MISSING} | {COLLISION}` (shared with the Cluster's place). */
export function bindReply(reply: unknown): BindResult {
  const [code, ttl, touched, ...ended] = list(reply)
  const status: Status = statusOf(code)
  if (status === 'missing' || status === 'collision') return { status }
  if (status !== 'ok' && status !== 'kept') throw new TypeError('unexpected script reply')
  return { status: status === 'ok' ? 'bound' : 'kept', ...liveSession(ttl, touched), ended: texts(ended) }
}

/**
 * Bind, create or keep, then prune. KEYS: target, [source], index. ARGV: subject, meta (both
 * staged), session ttl ms, max lifetime ms (0 none), max sessions (0 unlimited).
 * → {OK|KEPT, ttl, touched, ended member…} | {MISSING} | {COLLISION}
 */
const BIND_LUA = `${SUBJECT_LUA}`

const BIND_BODY = `
local target, index = KEYS[1], KEYS[#KEYS]
local source = KEYS[3] and KEYS[2]
local subject, meta, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local lifetime, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
local key, status, at, touched = target, OK, 0, 1
local writes = {}
if not source then
  if live_key(target, now) then return {COLLISION} end
  redis.call('DEL', target)
  local deadline = 0
  at = now + ttl
  if lifetime > 0 then
    deadline = now + lifetime
    if at > deadline then at = deadline end
  end
  push(writes, 'm:deadline', ms(deadline))
  push(writes, 'm:created', ms(now))
  push(writes, 'm:expires', ms(at))
else
  local held = redis.call('HMGET', source, 'm:expires', 'm:deadline', 'm:subject', 'm:index', 'm:created')
  at = live_until(source, held[1], now)
  if not at then return {MISSING} end
  if held[3] == subject then
    key, status = source, KEPT
  else
    if live_key(target, now) then return {COLLISION} end
    -- A new subject: a new id in the same step, and the session leaves the old subject's index.
    redis.call('RENAME', source, target)
    if held[4] then redis.call('ZREM', held[4], member_of(source)) end
  end
  if not held[5] then push(writes, 'm:created', ms(now)) end
  at, touched = extended(at, num(held[2]), now + ttl)
  if touched == 1 then push(writes, 'm:expires', ms(at)) end
end
push(writes, 'm:subject', subject)
push(writes, 'm:meta', meta)
push(writes, 'm:index', index)
push(writes, 'm:active', ms(now))
redis.call('HSET', key, unpack(writes))
if touched == 1 then redis.call('PEXPIREAT', key, ms(at)) end
local me = member_of(key)
redis.call('ZADD', index, ms(at), me)
local reply = {status, at - now, touched}
if limit == 0 then
  -- Entries whose presumed expiry has passed, a few per bind: pruned when dead, their score moved
  -- up to the session's expiry when live. Every bind adds one entry and checks up to PRUNE_BATCH.
  local due = redis.call('ZRANGEBYSCORE', index, '-inf', ms(now), 'LIMIT', 0, ${PRUNE_BATCH})
  for _, member in ipairs(due) do
    local entries = bound_session(index, member, now)
    if entries then redis.call('ZADD', index, entries[1], member) else redis.call('ZREM', index, member) end
  end
else
  -- maxSessions: every entry is looked at; dead ones go, the least recently active beyond the limit end.
  local others = {}
  for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if member ~= me then
      local entries, other = bound_session(index, member, now)
      if entries then
        others[#others + 1] = {member, num(entries[4] or entries[3]), other}
      else
        redis.call('ZREM', index, member)
      end
    end
  end
  local excess = #others + 1 - limit
  if excess > 0 then
    table.sort(others, function(a, b) return a[2] < b[2] end)
    for i = 1, excess do
      redis.call('DEL', others[i][3])
      redis.call('ZREM', index, others[i][1])
      reply[#reply + 1] = others[i][1]
    end
  end
end
keep_index(index)
return reply
`

function bindCall(input: BindInput): ScriptCall {
  const { options } = input
  const lifetime = options.session === 'create' && options.maxLifetime !== undefined ? options.maxLifetime : 0
  const keys = input.from === undefined ? [input.key, input.index] : [input.key, input.from, input.index]
  return {
    keys,
    args: [
      options.subject,
      options.meta,
      milliseconds(options.sessionTtl),
      milliseconds(lifetime),
      String(options.maxSessions ?? 0),
    ],
    staged: [0, 1],
  }
}

/** {@link BIND_BODY} for `session: 'create'`. KEYS: target, index. */
export const BIND_CREATING = defineScript({
  name: 'bind',
  numberOfKeys: 2,
  writes: true,
  lua: BIND_LUA,
  body: BIND_BODY,
  build: bindCall,
  parse: bindReply,
})

/** {@link BIND_BODY} for `session: 'existing'`. KEYS: target, source, index. */
export const BIND = defineScript({
  name: 'bind',
  numberOfKeys: 3,
  writes: true,
  lua: BIND_LUA,
  body: BIND_BODY,
  build: bindCall,
  parse: bindReply,
})

/** KEYS: session. → {OK, ttl, subject|nil, meta|nil} | {MISSING}. Never touches the lifetime. */
export const SUBJECT_OF = defineScript({
  name: 'subjectOf',
  numberOfKeys: 1,
  writes: false,
  body: `
local key = KEYS[1]
local now = now_ms()
local entries = redis.call('HMGET', key, 'm:expires', 'm:subject', 'm:meta')
local at = live_until(key, entries[1], now)
if not at then return {MISSING} end
return {OK, at - now, entries[2], entries[3]}
`,
  build: (key: string) => ({ keys: [key], args: [] }),
  parse(reply): SubjectRead {
    const [status, ttl, subject, meta] = list(reply)
    if (statusOf(status) === 'missing') return { live: false }
    const optional = (element: unknown) => (bytes(element) === undefined ? undefined : text(element))
    return { ...liveSession(ttl, 0), subject: optional(subject), meta: optional(meta) }
  },
})
