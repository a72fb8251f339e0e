import type { RevokeTarget, SessionKey } from '../../core/store.js'
import type { ClusterMoves } from './cluster-rename.js'
import { REVOKE_ONE, type RevokeStep } from './cluster-subject-scripts.js'
import { INDEX_PRUNE, INDEX_READ, type IndexChange, type IndexEntry, type IndexRead } from './index-scripts.js'
import { subjectIndexKey } from './subject-keys.js'

/**
 * Revocation on a Cluster (rules 3 and 4 of `cluster-subjects.ts`): end each session at its own
 * node, following moves in flight, then drop the entries.
 */

/** What the Cluster's subject steps need. */
export interface ClusterSubjects extends ClusterMoves {
  readonly prefix: string
}

/** Marker hops a revocation follows from one entry (a session moved again while being revoked). */
const MAX_HOPS = 4

/**
 * @param subjects - carries the prefix
 * @param member - a store key
 * @returns its Redis key
 */
export const redisKey = (subjects: ClusterSubjects, member: SessionKey): string => `${subjects.prefix}{${member}}`

/**
 * How long to block an entry's key if it turns out empty (rule 2 of `cluster-subjects.ts`): only a
 * due entry that fell due less than `hold` ago.
 *
 * @param entry - an index entry as read
 * @param now - the index node's clock when it was read
 * @param hold - the store's hold
 * @returns ms to block for, or `undefined`
 */
export function blockFor(entry: IndexEntry, now: number, hold: number): number | undefined {
  return entry.dueSince !== undefined && entry.dueSince + hold > now ? hold : undefined
}

/** What a revocation did, starting from one key. */
export interface Chain {
  /** The keys whose live session it ended (or whose move in flight it stopped). */
  readonly ended: SessionKey[]
  /** The moves' targets it followed. */
  readonly followed: SessionKey[]
  /** What it found at the first key. */
  readonly first: RevokeStep['status']
}

/**
 * Revoke at one key, following "moved to" markers (rule 3 of `cluster-subjects.ts`).
 *
 * @param subjects - runner, prefix, hold
 * @param index - the subject's index key
 * @param member - the store key to start at
 * @param block - ms to block it for when it is empty, or `undefined`
 * @param except - a key never to revoke
 * @returns what it did
 */
export async function revokeChain(
  subjects: ClusterSubjects,
  index: string,
  member: SessionKey,
  block: number | undefined,
  except: SessionKey | undefined,
): Promise<Chain> {
  const step = (key: SessionKey, blocking: number | undefined) =>
    subjects.runner.run(REVOKE_ONE, { key: redisKey(subjects, key), index, hold: subjects.hold, block: blocking })
  const first = await step(member, block)
  let result = first
  let inFlight = false
  const followed: SessionKey[] = []
  for (let hops = 0; result.status === 'moved' && hops < MAX_HOPS && result.to !== except; hops++) {
    followed.push(result.to)
    // A move taken less than a store timeout ago may still be placing its session (hold = 10 x timeout).
    inFlight = result.age < subjects.hold / 10
    result = await step(result.to, subjects.hold)
  }
  // Ended here, or at a move's target, or stopped before a move still in flight landed (an old
  // move's empty target is a session that ended before: nothing to count). Reported under `member`.
  const gone =
    first.status === 'ended' ||
    (followed.length > 0 && (result.status === 'ended' || (result.status === 'missing' && inFlight)))
  return { ended: gone ? [member] : [], followed, first: first.status }
}

/**
 * End the subject's sessions on a Cluster. Round trips: 3 for all (`INDEX_READ`, one `REVOKE_ONE`
 * per entry in parallel, `INDEX_PRUNE`), 2 for given keys; plus one per marker followed.
 *
 * @param subjects - runner, prefix, hold
 * @param subject - the subject
 * @param target - which sessions
 * @returns the keys whose live session was ended
 */
export async function revokeAcrossSlots(
  subjects: ClusterSubjects,
  subject: string,
  target: RevokeTarget,
): Promise<SessionKey[]> {
  const index = subjectIndexKey(subjects.prefix, subject)
  const { keys, except } = target
  // Given keys have no score: nothing is blocked for them but a move's target.
  const read: IndexRead =
    keys === undefined
      ? await subjects.runner.run(INDEX_READ, index)
      : { now: 0, entries: keys.map((member) => ({ member, score: Number.POSITIVE_INFINITY })) }
  const entries = read.entries.filter((entry) => entry.member !== except)
  const chains = await Promise.all(
    entries.map((entry) =>
      revokeChain(subjects, index, entry.member, blockFor(entry, read.now, subjects.hold), except),
    ),
  )
  // Per session, by the key its chain stopped at, the key it is reported under. A session reached
  // through several entries (its own, and older keys' moves to it, whichever got there first) is one
  // session, reported under the entry that ended it at its own key when there is one.
  const ended = new Map<SessionKey, SessionKey>()
  const changes: IndexChange[] = []
  chains.forEach((chain, i) => {
    const entry = entries[i] as IndexEntry
    const [reported] = chain.ended
    if (reported !== undefined) {
      const stop = chain.followed.at(-1) ?? entry.member
      if (!ended.has(stop) || chain.first === 'ended') ended.set(stop, reported)
    }
    for (const member of chain.followed) changes.push({ member })
    const seen = keys === undefined ? entry.score : undefined
    if (chain.first === 'ended' || chain.first === 'moved') changes.push({ member: entry.member })
    // Rule 4: an absent session's entry that is not due yet may be a bind about to land: kept.
    else if (keys === undefined && (chain.first === 'elsewhere' || entry.dueSince !== undefined)) {
      changes.push({ member: entry.member, seen })
    }
  })
  if (changes.length > 0) await subjects.runner.run(INDEX_PRUNE, { index, changes })
  return [...ended.values()]
}

/**
 * After a bound session was deleted on a Cluster (`delete`, `expire(0)`): its entry leaves the index.
 * Best effort — a failure leaves a stale entry, which pruning removes once it is due.
 *
 * @param subjects - runner
 * @param index - the index the deleted session was bound to
 * @param member - its store key
 */
export async function leaveIndex(subjects: ClusterSubjects, index: string, member: SessionKey): Promise<void> {
  await subjects.runner.run(INDEX_PRUNE, { index, changes: [{ member }] }).catch(() => undefined)
}
