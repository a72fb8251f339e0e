import type { SessionKey } from '../../core/store.js'
import { list, text } from './replies.js'
import { defineScript, statusOf } from './script.js'
import { SUBJECT_LUA } from './subject-lua.js'

/**
 * The scripts on a subject's index node (Cluster): add an entry before a placement, read entries,
 * and prune or refresh them. The order of steps around them is in `cluster-subjects.ts`.
 */

/** One index entry as read. */
export interface IndexEntry {
  /** A session's store key. */
  readonly member: SessionKey
  /** Its score (presumed live until, index node ms), as it stands now. */
  readonly score: number
  /** When the entry is due (its presumed expiry passed), since when; `undefined` when not due. */
  readonly dueSince?: number | undefined
}

/** An index as read: its node's clock and entries. */
export interface IndexRead {
  readonly now: number
  readonly entries: IndexEntry[]
}

/** Parse `{OK, now, member, score, due since or '', …}`. */
function indexRead(reply: unknown): IndexRead {
  const [status, clock, ...flat] = list(reply)
  if (statusOf(status) !== 'ok') throw new TypeError('unexpected script reply')
  const now = Number(text(clock))
  const entries: IndexEntry[] = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const since = text(flat[i + 2])
    entries.push({
      member: text(flat[i]),
      score: Number(text(flat[i + 1])),
      dueSince: since === '' ? undefined : Number(since),
    })
  }
  return { now, entries }
}

/** Input of {@link INDEX_ADD}. */
export interface IndexAddInput {
  readonly index: string
  readonly member: SessionKey
  /** How long the session will live once placed, in ms: the entry's score. */
  readonly remaining: number
  /**
   * Which entries to reply: `-1` all, else at most this many due ones, each leased to this caller
   * for `lease` ms (its score moves that far ahead, so concurrent binds check different entries).
   */
  readonly limit: number
  readonly lease?: number | undefined
  /**
   * The key the session is moving from, in the same index: its entry becomes due now, so the next
   * bind or list checks it and prunes it once its session is gone (a give-back raises it again).
   */
  readonly replaces?: SessionKey | undefined
}

/**
 * Set one entry's score, make the one it replaces due, then read entries. KEYS: index. ARGV: member
 * ('' adds nothing), remaining ms, how many to reply (-1 all, else those due, at most that many),
 * replaced member ('' none), lease ms. → {OK, now, member, score, due since or '', …}
 *
 * A lease's score ends in .5 and every other score is whole milliseconds, so a pruner that saw a
 * leased score (and removes only an entry still at that score) never mistakes an entry added again
 * for the one it checked.
 */
const INDEX_LUA = `${SUBJECT_LUA}`

const INDEX_BODY = `
local index = KEYS[1]
local now = now_ms()
if ARGV[1] ~= '' then
  redis.call('ZADD', index, ms(now + tonumber(ARGV[2])), ARGV[1])
  local replaced = ARGV[4] ~= '' and redis.call('ZSCORE', index, ARGV[4])
  if replaced and tonumber(replaced) > now then redis.call('ZADD', index, ms(now), ARGV[4]) end
  keep_index(index)
end
local limit = tonumber(ARGV[3])
local reply = {OK, ms(now)}
if limit < 0 then
  local entries = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local score = tonumber(entries[i + 1])
    push(reply, entries[i], entries[i + 1])
    reply[#reply + 1] = score <= now and entries[i + 1] or ''
  end
elseif limit > 0 then
  local due = redis.call('ZRANGEBYSCORE', index, '-inf', ms(now), 'WITHSCORES', 'LIMIT', 0, limit)
  local leased = ms(now + tonumber(ARGV[5])) .. '.5'
  for i = 1, #due, 2 do
    redis.call('ZADD', index, leased, due[i])
    push(reply, due[i], leased)
    reply[#reply + 1] = due[i + 1]
  end
end
return reply
`

/** The index learns a key before a bound session appears there. */
export const INDEX_ADD = defineScript({
  name: 'indexAdd',
  numberOfKeys: 1,
  writes: true,
  lua: INDEX_LUA,
  body: INDEX_BODY,
  build: (input: IndexAddInput) => ({
    keys: [input.index],
    args: [
      input.member,
      String(Math.max(0, Math.round(input.remaining))),
      String(input.limit),
      input.replaces ?? '',
      String(input.lease ?? 0),
    ],
  }),
  parse: indexRead,
})

/** Every entry of an index, with the index node's clock. KEYS: index. */
export const INDEX_READ = defineScript({
  name: 'indexRead',
  numberOfKeys: 1,
  writes: false,
  lua: INDEX_LUA,
  body: INDEX_BODY,
  build: (index: string) => ({ keys: [index], args: ['', '0', '-1', '', '0'] }),
  parse: indexRead,
})

/** One change {@link INDEX_PRUNE} makes: remove the entry, or move its score. */
export interface IndexChange {
  readonly member: SessionKey
  /** Only when the entry still has this score (it was not added again meanwhile); any when absent. */
  readonly seen?: number | undefined
  /** The new score; remove the entry when absent. */
  readonly score?: number | undefined
}

/** Input of {@link INDEX_PRUNE}. */
export interface IndexPruneInput {
  readonly index: string
  readonly changes: readonly IndexChange[]
}

/**
 * Remove entries or move their scores, each only when its score is still the one seen: an entry a
 * bind added again meanwhile (a session put back at its old key) stays. KEYS: index.
 * ARGV: (member, seen score or '', new score or '' to remove)…
 */
export const INDEX_PRUNE = defineScript({
  name: 'indexPrune',
  numberOfKeys: 1,
  writes: false,
  lua: `${SUBJECT_LUA}`,
  body: `
local index = KEYS[1]
for i = 1, #ARGV, 3 do
  local member, seen, score = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('ZSCORE', index, member)
  if current and (seen == '' or tonumber(current) == tonumber(seen)) then
    if score == '' then redis.call('ZREM', index, member) else redis.call('ZADD', index, score, member) end
  end
end
keep_index(index)
return OK
`,
  build: (input: IndexPruneInput) => ({
    keys: [input.index],
    args: input.changes.flatMap((change) => [
      change.member,
      change.seen === undefined ? '' : String(change.seen),
      change.score === undefined ? '' : String(change.score),
    ]),
  }),
  parse: (reply) => statusOf(reply) === 'ok',
})
