import type { SessionKey, SubjectSession } from '../../core/store.js'
import { list, text } from './replies.js'
import { defineScript } from './script.js'
import { SUBJECT_LUA } from './subject-lua.js'

/**
 * The standalone scripts that walk a whole subject index: list and revoke. Each is one script, so
 * each is atomic; they reach the sessions the index names without declaring their keys (a
 * standalone server allows it; the Cluster takes `cluster-subjects.ts`'s steps instead).
 */

/**
 * A subject's live sessions as {member, created, active, expires, meta} groups, in no order.
 * @param elements - the groups, flat
 * @returns them as the store reports them
 */
export function subjectSessions(elements: readonly unknown[]): SubjectSession[] {
  const sessions: SubjectSession[] = []
  for (let i = 0; i + 4 < elements.length; i += 5) {
    sessions.push({
      key: text(elements[i]),
      createdAt: Number(text(elements[i + 1])),
      lastActiveAt: Number(text(elements[i + 2])),
      expiresAt: Number(text(elements[i + 3])),
      meta: text(elements[i + 4]),
    })
  }
  return sessions
}

/**
 * Every live session of the subject; dead entries (and entries of sessions bound elsewhere) are
 * pruned, live entries' scores move to their session's expiry. Work: one HMGET per entry, and the
 * index holds the live sessions plus the dead ones no bind has pruned yet.
 * KEYS: index. → {member, created, active, expires, meta, …}
 */
export const LIST = defineScript({
  name: 'listSubject',
  numberOfKeys: 1,
  // Pruning and refreshed scores need not survive a failover: the next list does them again.
  writes: false,
  lua: `${SUBJECT_LUA}`,
  body: `
local index = KEYS[1]
local now = now_ms()
local reply = {}
local all = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local member, score = all[i], all[i + 1]
  local entries = bound_session(index, member, now)
  if entries then
    local created = entries[3] or '0'
    reply[#reply + 1] = member
    reply[#reply + 1] = created
    reply[#reply + 1] = entries[4] or created
    reply[#reply + 1] = entries[1]
    reply[#reply + 1] = entries[5] or '{}'
    if tonumber(score) ~= tonumber(entries[1]) then redis.call('ZADD', index, entries[1], member) end
  else
    redis.call('ZREM', index, member)
  end
end
keep_index(index)
return reply
`,
  build: (index: string) => ({ keys: [index], args: [] }),
  parse: (reply) => subjectSessions(list(reply)),
})

/** Input of {@link REVOKE}. */
export interface RevokeInput {
  readonly index: string
  /** Only these store keys; every entry of the index when absent. */
  readonly keys?: readonly SessionKey[] | undefined
  readonly except?: SessionKey | undefined
}

/**
 * End the subject's live sessions among the keys (all entries when none are given) but `except`;
 * a key bound to another subject or to none is left alone. Their entries leave the index.
 * KEYS: index. ARGV: except ('' for none), `all` | `keys`, keys…. → {ended member…}
 */
export const REVOKE = defineScript({
  name: 'revokeSubject',
  numberOfKeys: 1,
  writes: true,
  lua: `${SUBJECT_LUA}`,
  body: `
local index, except = KEYS[1], ARGV[1]
local now = now_ms()
local members = {}
if ARGV[2] == 'keys' then
  for i = 3, #ARGV do members[#members + 1] = ARGV[i] end
else
  members = redis.call('ZRANGE', index, 0, -1)
end
local ended = {}
for _, member in ipairs(members) do
  if member ~= except then
    local entries, key = bound_session(index, member, now)
    if entries then
      redis.call('DEL', key)
      ended[#ended + 1] = member
    end
    redis.call('ZREM', index, member)
  end
end
keep_index(index)
return ended
`,
  build: (input: RevokeInput) => ({
    keys: [input.index],
    args: [input.except ?? '', input.keys === undefined ? 'all' : 'keys', ...(input.keys ?? [])],
  }),
  parse: (reply): SessionKey[] => list(reply).map(text),
})
