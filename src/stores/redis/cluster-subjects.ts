import type { BindOptions, BindResult, SessionKey, SubjectSession } from '../../core/store.js'
import { moveToken, placeOrGiveBack, putBack, takenBinding, takeOrRestore } from './cluster-rename.js'
import { blockFor, type ClusterSubjects, redisKey, revokeChain } from './cluster-revoke.js'
import { BIND_PLACE, BIND_SOURCE, SESSION_STATE, type SessionState } from './cluster-subject-scripts.js'
import {
  INDEX_ADD,
  INDEX_PRUNE,
  INDEX_READ,
  type IndexChange,
  type IndexEntry,
  type IndexRead,
} from './index-scripts.js'
import { subjectIndexKey } from './subject-keys.js'
import { PRUNE_BATCH } from './subject-scripts.js'
import { TAKE } from './write-scripts.js'

/**
 * Subjects on a Cluster. A subject's index is one slot; its sessions are in any slot, so no script
 * can touch both, and the steps are ordered so that whatever happens between them (a crash, a
 * concurrent revocation, a prune) a bound session is never live and unlisted. A stale entry (a dead
 * session, a bind that never completed) is harmless: it is pruned later. The rules:
 *
 * 1. **The index learns a key before a bound session appears there.** Every placement of a bound
 *    session (bind, rename, give-back, move back) is preceded by `INDEX_ADD`, whose score — the time
 *    until which the entry is presumed live — is the session's coming expiry.
 * 2. **Nothing removes an entry whose placement may still land.** An absent session's entry is
 *    removed only once it is due (its score has passed: a placement in flight has a future score),
 *    and then in two steps that cannot lose a late placement: the session's node blocks the empty
 *    key with an `m:revoked` marker (atomically with finding it empty, and only when the entry fell
 *    due less than `hold` ago; older ones cannot have a placement on its way), then the index drops
 *    the entry, only if its score is still the one seen (an entry added again meanwhile stays).
 * 3. **A revocation wins over a move in flight.** A move's first step (`TAKE`, `BIND_SOURCE`) leaves
 *    a tombstone at the source naming the target (`m:moved`). `REVOKE_ONE` replaces it with an
 *    `m:revoked` marker and the revocation follows it to the target; an absent target (the move has
 *    not landed) is blocked the same way, which makes the move's placement fail (`missing`), and
 *    the give-back fails too (its tombstone is gone).
 * 4. **A revocation removes entries only after ending their sessions**, so one that fails half way
 *    leaves entries, never live sessions without one. An entry whose session is absent and not yet
 *    due (a bind between its index step and its placement) is left alone: that bind lands after
 *    the revocation and is listed, as if it had come after it.
 *
 * So, for a revocation racing binds: every session it saw is ended, and a bind it did not see is
 * listed afterwards. A write or increment in flight on a revoked key finds no session; a rename in
 * flight is stopped by rule 3. Markers live `hold` ms (a tombstone at least a minute); a step
 * delayed beyond that (only a client re-sending a command long after the store gave up on it) is
 * outside these guarantees.
 */

/** Each entry's session state, read on its node in parallel; a failed read is its error. */
function statesOf(subjects: ClusterSubjects, index: string, read: IndexRead, entries: readonly IndexEntry[]) {
  const look = (entry: IndexEntry) =>
    subjects.runner.run(SESSION_STATE, {
      key: redisKey(subjects, entry.member),
      index,
      block: blockFor(entry, read.now, subjects.hold),
    })
  return Promise.allSettled(entries.map(look))
}

/** What to do with an entry given its session's state: refresh a due live one, drop a due dead one. */
function changeFor(entry: IndexEntry, state: SessionState): IndexChange | undefined {
  const due = entry.dueSince !== undefined
  if (state.status === 'live')
    return due ? { member: entry.member, seen: entry.score, score: state.expiresAt } : undefined
  if (state.status === 'elsewhere' || due) return { member: entry.member, seen: entry.score }
  return undefined
}

/** The entries a bind read (but its own) and their states, being read in parallel with its next step. */
interface Inspection {
  readonly entries: readonly IndexEntry[]
  readonly states: ReturnType<typeof statesOf>
}

function inspect(subjects: ClusterSubjects, index: string, read: IndexRead, me: SessionKey): Inspection {
  const entries = read.entries.filter((entry) => entry.member !== me)
  return { entries, states: statesOf(subjects, index, read, entries) }
}

/**
 * Refresh and prune the entries a bind read, and end the least recently active sessions beyond
 * `maxSessions`. It runs after the bind's placement, which it never undoes: a node that refuses
 * leaves its victims for the subject's next bind (their entries stay in the index, so that bind sees
 * them again), and the bind resolves with the sessions ended so far. Failing the bind instead would
 * sign out the user it just moved and bound. A node that does not answer at all still holds the bind
 * up to the store's deadline: a revocation sent to it may land later, and the bind must report every
 * session it ended (a layered store drops their hot copies).
 *
 * @returns the keys ended
 */
async function tidy(
  subjects: ClusterSubjects,
  index: string,
  inspection: Inspection,
  me: SessionKey,
  maxSessions: number | undefined,
): Promise<SessionKey[]> {
  const ended: SessionKey[] = []
  const { entries } = inspection
  const states = await inspection.states
  const changes: IndexChange[] = []
  const live: { member: SessionKey; lastActiveAt: number }[] = []
  entries.forEach((entry, i) => {
    const state = states[i]
    // A session whose node did not answer stays as it is: pruning is an optimisation.
    if (state?.status !== 'fulfilled') return
    const change = changeFor(entry, state.value)
    if (change !== undefined) changes.push(change)
    if (state.value.status === 'live') live.push({ member: entry.member, lastActiveAt: state.value.lastActiveAt })
  })
  const excess = maxSessions === undefined ? 0 : live.length + 1 - maxSessions
  if (excess > 0) {
    const victims = live.sort((a, b) => a.lastActiveAt - b.lastActiveAt).slice(0, excess)
    await Promise.all(
      victims.map(async (victim) => {
        // A victim whose revocation fails keeps its entry (rule 4): the next bind tries again.
        const chain = await revokeChain(subjects, index, victim.member, undefined, me).catch(() => undefined)
        if (chain === undefined) return
        ended.push(...chain.ended)
        if (chain.first !== 'missing') changes.push({ member: victim.member })
        for (const member of chain.followed) changes.push({ member })
      }),
    )
  }
  // Pruning is an optimisation: a failure leaves entries for a later bind or list.
  if (changes.length > 0) await subjects.runner.run(INDEX_PRUNE, { index, changes }).catch(() => undefined)
  return ended
}

/**
 * Bind on a Cluster (see the module comment for the order of steps).
 *
 * Round trips: create 2 (`INDEX_ADD`, `BIND_PLACE`); a new subject for an existing session 3
 * (`BIND_SOURCE`, `INDEX_ADD`, `BIND_PLACE`); the same subject 1 (`BIND_SOURCE`). Plus, when the
 * index holds entries whose score has passed, their state (read in parallel with the placement) and
 * one `INDEX_PRUNE`; with `maxSessions`, the state of every entry, one parallel revocation of the
 * victims and one `INDEX_PRUNE`.
 *
 * @param subjects - runner, prefix, hold
 * @param key - the store key the session is bound under when it moves or is created
 * @param options - the bind
 * @param abandoned - fires when the caller stopped waiting (the store's timeout)
 * @returns the bind's reply
 */
export async function bindAcrossSlots(
  subjects: ClusterSubjects,
  key: SessionKey,
  options: BindOptions,
  abandoned: AbortSignal,
): Promise<BindResult> {
  const { runner, hold } = subjects
  const index = subjectIndexKey(subjects.prefix, options.subject)
  const target = redisKey(subjects, key)
  const limit = options.maxSessions === undefined ? PRUNE_BATCH : -1
  const remaining = options.sessionTtl * 1000
  if (options.renameFrom === undefined || options.session === 'create') {
    const lifetime = Math.min(remaining, (options.maxLifetime ?? Number.POSITIVE_INFINITY) * 1000)
    const read = await runner.run(INDEX_ADD, { index, member: key, remaining: lifetime, limit, lease: hold })
    const inspection = inspect(subjects, index, read, key)
    const placed = await runner.run(BIND_PLACE, { key: target, index, options })
    if (placed.status !== 'bound') return placed
    return { ...placed, ended: await tidy(subjects, index, inspection, key, options.maxSessions) }
  }
  const from = { key: redisKey(subjects, options.renameFrom), token: moveToken() }
  const source = await takeOrRestore(
    subjects,
    from,
    () => runner.run(BIND_SOURCE, { ...from, to: key, hold, options }),
    (result) => (result.status === 'taken' ? result.taken : undefined),
  )
  if (source.status === 'missing') return source
  if (source.status === 'kept') {
    const kept = source.reply
    if (options.maxSessions === undefined || kept.status !== 'kept') return kept
    const inspection = inspect(subjects, index, await runner.run(INDEX_READ, index), options.renameFrom)
    return {
      ...kept,
      ended: await tidy(subjects, index, inspection, options.renameFrom, options.maxSessions),
    }
  }
  const { taken } = source
  if (abandoned.aborted) {
    await putBack(subjects, from, taken, target)
    throw new Error('abandoned after the deadline; the session was put back')
  }
  let inspection: Inspection | undefined
  const placed = await placeOrGiveBack(subjects, from, target, taken, async () => {
    const moving = Number(String(taken[1])) - Number(String(taken[0]))
    const read = await runner.run(INDEX_ADD, {
      index,
      member: key,
      remaining: Math.max(moving, remaining),
      limit,
      lease: hold,
    })
    inspection = inspect(subjects, index, read, key)
    return runner.run(BIND_PLACE, { key: target, index, options, taken })
  })
  if (placed.status !== 'bound') return placed
  if (abandoned.aborted) {
    // Nobody will learn the new id: undo the bind. The session goes back as it was taken, never
    // bound to the new subject under the old id (which may have been planted: SPEC §13).
    await runner.run(TAKE, { key: target, token: from.token, to: from.key, hold })
    await putBack(subjects, from, taken, target)
    return placed
  }
  // The session left its previous subject: its entry there names a key that will never hold it
  // again (a give-back happens only on the abandoned path above), so it goes now rather than when its
  // score passes, which is the session's whole lifetime away.
  const left = takenBinding(taken)
  const leaving =
    left !== undefined && left.index !== index
      ? runner.run(INDEX_PRUNE, { index: left.index, changes: [{ member: options.renameFrom }] }).catch(() => undefined)
      : undefined
  const ended = inspection === undefined ? [] : await tidy(subjects, index, inspection, key, options.maxSessions)
  await leaving
  return { ...placed, ended }
}

/**
 * The subject's live sessions on a Cluster, most recently active first. Round trips: 3 (`INDEX_READ`,
 * one `SESSION_STATE` per entry in parallel, `INDEX_PRUNE` when something is due); work: one read
 * per entry. An entry whose session is absent but not yet due (possibly a bind in flight) is neither
 * listed nor pruned.
 *
 * @param subjects - runner, prefix, hold
 * @param subject - the subject
 * @returns its live sessions
 * @throws the first node's error: a list never silently leaves sessions out
 */
export async function listAcrossSlots(subjects: ClusterSubjects, subject: string): Promise<SubjectSession[]> {
  const index = subjectIndexKey(subjects.prefix, subject)
  const read = await subjects.runner.run(INDEX_READ, index)
  const states = await statesOf(subjects, index, read, read.entries)
  const changes: IndexChange[] = []
  const sessions: SubjectSession[] = []
  read.entries.forEach((entry, i) => {
    const state = states[i]
    if (state === undefined) return
    if (state.status === 'rejected') throw state.reason
    const change = changeFor(entry, state.value)
    if (change !== undefined) changes.push(change)
    if (state.value.status !== 'live') return
    const { createdAt, lastActiveAt, expiresAt, meta } = state.value
    sessions.push({ key: entry.member, createdAt, lastActiveAt, expiresAt, meta })
  })
  if (changes.length > 0) await subjects.runner.run(INDEX_PRUNE, { index, changes })
  return sessions.sort((a, b) => b.lastActiveAt - a.lastActiveAt)
}
