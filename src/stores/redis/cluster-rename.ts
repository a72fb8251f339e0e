import { randomBytes } from 'node:crypto'
import type { RenameResult } from '../../core/store.js'
import { INDEX_ADD } from './index-scripts.js'
import { type ScriptRunner, UnconfirmedWriteError } from './runner.js'
import type { RedisScript } from './script.js'
import { memberOf } from './subject-keys.js'
import { GIVE_BACK, PLACE, TAKE, type TakenSession } from './write-scripts.js'

/**
 * Renames on a Redis Cluster.
 *
 * Two random session keys almost never share a hash slot, and one script may only touch keys of
 * one slot, so a Cluster rename cannot be one atomic script. It is two, in this order:
 *
 * 1. `TAKE` on the source's node reads and deletes the session atomically. From here on the old
 *    id is dead for every other request, exactly as after an atomic rename.
 * 2. `PLACE` (or `WRITE` carrying the taken session) on the target's node creates the target only
 *    when it is not live, so an existing session is never overwritten. On that collision the taken
 *    session is put back at the source (again only if absent) and `collision` is reported.
 *
 * When step 2 fails (the target's node refuses the write, the connection drops, …) the taken
 * session is put back at the source, and the error is reported: the operation then changed nothing,
 * as a failed atomic rename would. The new id reaches the browser only in the response of a
 * successful operation, so if the failed step did leave a copy at the target, no one holds its id
 * and it expires on its own TTL.
 *
 * A step that completes after the store's deadline (the request already failed with a timeout;
 * the client kept retrying the command across a failover) is undone: the session goes back to the
 * source. A put-back can itself arrive late, after the browser went on with the old id — deleted
 * it (logged out) or moved it again. So `TAKE` leaves a tombstone naming this move's token at the
 * source, and only `GIVE_BACK` with that token, while the tombstone is still there, restores the
 * session: a `DELETE` of the old id removes the tombstone, another move replaces it, and then the
 * put-back changes nothing. A retired id never comes back.
 *
 * What stays possible: the process dies between the steps, or a step ran but its reply never
 * arrived (the connection dropped). The session is then lost (the user is signed out), never
 * usable under two ids. Only the request doing the rename knows the new id, so no other request
 * can observe the moment where the session is in neither place.
 *
 * A session bound to a subject (SPEC §13) takes one more step, between the two: its subject's index
 * (another slot) learns the target key before the session appears there, so a bound session is
 * never live and unlisted, even if the process dies between steps (a stale entry is pruned later).
 * Its tombstone also names the target (`m:moved`) for a revocation to follow, and `PLACE` refuses a
 * target a revocation blocked: a rename in flight cannot bring a revoked session back (see
 * `cluster-subjects.ts`). Every placement of a bound session — the target, a give-back to the
 * source, a move back — is preceded by its index step.
 */

/** What a Cluster move needs: the runner, and how long markers live. */
export interface ClusterMoves {
  readonly runner: ScriptRunner
  /**
   * Milliseconds a revocation's `m:revoked` marker lives, and a tombstone at least: far beyond any
   * step the store still waits for (10 × its timeout).
   */
  readonly hold: number
}

/** The key a session was taken from, and the token of the move's tombstone there. */
export interface MoveSource {
  readonly key: string
  readonly token: string
}

/** @returns a fresh move token */
export function moveToken(): string {
  return randomBytes(12).toString('base64url')
}

/**
 * @param taken - a session as `TAKE` replied it
 * @returns the index it is bound to and how long it had left (ms), when it is bound
 */
export function takenBinding(taken: TakenSession): { index: string; remaining: number } | undefined {
  for (let i = 2; i + 1 < taken.length; i += 2) {
    if (String(taken[i]) === 'm:index') {
      return { index: String(taken[i + 1]), remaining: Number(String(taken[1])) - Number(String(taken[0])) }
    }
  }
  return undefined
}

/**
 * Before a taken session appears at `key`: when it is bound, its subject's index learns `key`, and
 * the entry of the key it leaves becomes due (pruned once that key is found empty).
 */
async function listBeforePlacing(
  moves: ClusterMoves,
  key: string,
  taken: TakenSession,
  leaving: string,
): Promise<void> {
  const binding = takenBinding(taken)
  if (binding === undefined) return
  await moves.runner.run(INDEX_ADD, {
    index: binding.index,
    member: memberOf(key),
    remaining: binding.remaining,
    limit: 0,
    replaces: memberOf(leaving),
  })
}

/**
 * Put a taken session back at its source (only while the source holds this move's tombstone),
 * listed there first when it is bound.
 *
 * @param moves - runner and hold
 * @param source - where it was taken from, with the move's token
 * @param taken - the session as taken
 * @param to - the Redis key it was going to
 */
export async function putBack(moves: ClusterMoves, source: MoveSource, taken: TakenSession, to: string): Promise<void> {
  await listBeforePlacing(moves, source.key, taken, to)
  await moves.runner.run(GIVE_BACK, { ...source, taken })
}

/**
 * Run step 2 (`place`) for a session taken from `source`. When the target did not take it — a
 * collision, or a failure — put it back at the source, then report.
 *
 * @param moves - runner and hold
 * @param source - where it was taken from, with the move's token
 * @param to - the Redis key step 2 places it at
 * @param taken - the session as taken
 * @param place - step 2
 * @returns step 2's result
 */
export async function placeOrGiveBack<Result extends { status: string }>(
  moves: ClusterMoves,
  source: MoveSource,
  to: string,
  taken: TakenSession,
  place: () => Promise<Result>,
): Promise<Result> {
  let result: Result
  try {
    result = await place()
  } catch (error) {
    // The step's own error is the one to report; a failed give-back leaves the session lost,
    // which is where it stood before this attempt.
    await putBack(moves, source, taken, to).catch(() => undefined)
    throw error
  }
  if (result.status === 'collision') await putBack(moves, source, taken, to)
  return result
}

/**
 * Move a session that was placed at `to` back to its source (only while the source's tombstone is
 * this move's).
 *
 * @param moves - runner and hold
 * @param to - where it was placed
 * @param source - where it came from, with the move's token
 */
export async function moveBack(moves: ClusterMoves, to: string, source: MoveSource): Promise<void> {
  const taken = await moves.runner.run(TAKE, { key: to, token: source.token, to: source.key, hold: moves.hold })
  if (taken !== undefined) await putBack(moves, source, taken, to)
}

/**
 * Run a step that takes a session from `source` (a rename's or a bind's first step). When it ran but
 * replicas did not confirm it, the session is a tombstone on the primary, and the failure would
 * sign its user out: put it back from the step's reply (a give-back waits for no replica), then
 * report the failure.
 *
 * @param moves - runner and hold
 * @param source - where the step takes from, with the move's token
 * @param step - the step
 * @param takenOf - the session the step's result says it took, if any
 * @returns the step's result
 */
export async function takeOrRestore<Result>(
  moves: ClusterMoves,
  source: MoveSource,
  step: () => Promise<Result>,
  takenOf: (result: Result) => TakenSession | undefined,
): Promise<Result> {
  try {
    return await step()
  } catch (error) {
    if (error instanceof UnconfirmedWriteError) {
      let taken: TakenSession | undefined
      try {
        taken = takenOf(error.result() as Result)
      } catch {
        taken = undefined // a reply that is not the step's: nothing known to put back
      }
      if (taken !== undefined) await moves.runner.run(GIVE_BACK, { ...source, taken }).catch(() => undefined)
    }
    throw error
  }
}

/**
 * Take the session at `from`, list it at `to` when it is bound, then `place` it. When the caller
 * gave up meanwhile (its deadline passed, `abandoned` fired) but a step still went through later —
 * the client kept retrying it across a failover — nobody will ever learn the new id: the session
 * goes back to `from`, as if the failed operation had not run.
 */
async function transfer<Result extends { status: string }>(
  moves: ClusterMoves,
  from: string,
  to: string,
  abandoned: AbortSignal,
  place: (taken: TakenSession) => Promise<Result>,
): Promise<Result | { status: 'missing' }> {
  const source = { key: from, token: moveToken() }
  const take = () => moves.runner.run(TAKE, { ...source, to, hold: moves.hold })
  const taken = await takeOrRestore(moves, source, take, (session) => session)
  if (taken === undefined) return { status: 'missing' }
  if (abandoned.aborted) {
    await putBack(moves, source, taken, to)
    throw new Error('abandoned after the deadline; the session was put back')
  }
  const result = await placeOrGiveBack(moves, source, to, taken, async () => {
    await listBeforePlacing(moves, to, taken, from)
    return place(taken)
  })
  // A revoked target (`missing`) stays revoked; a collision was already given back.
  if (abandoned.aborted && result.status !== 'collision' && result.status !== 'missing') {
    await moveBack(moves, to, source)
  }
  return result
}

/**
 * Move the session at `from` to `to` across slots.
 *
 * @param moves - the Cluster client's script runner and the hold
 * @param from - source Redis key
 * @param to - target Redis key
 * @param abandoned - fires when the caller stopped waiting (the store's timeout)
 * @returns the rename's result (`missing` when there was nothing to move, or a revocation won)
 */
export async function renameAcrossSlots(
  moves: ClusterMoves,
  from: string,
  to: string,
  abandoned: AbortSignal,
): Promise<RenameResult> {
  return transfer(moves, from, to, abandoned, (taken) => moves.runner.run(PLACE, { key: to, taken }))
}

/**
 * `WRITE` (or `INCREMENT`) with `renameFrom` across slots: take the source, then create the target
 * from it and write the field in one script on the target's node.
 *
 * @param moves - the Cluster client's script runner and the hold
 * @param from - source Redis key
 * @param script - `WRITE` or `INCREMENT`
 * @param input - the write, whose `key` is the target
 * @param abandoned - fires when the caller stopped waiting (the store's timeout)
 * @returns the write's result (`missing` when there was nothing to move, or a revocation won)
 */
export async function writeAcrossSlots<Input extends { key: string }, Result extends { status: string }>(
  moves: ClusterMoves,
  from: string,
  script: RedisScript<Input & { taken?: TakenSession | undefined }, Result>,
  input: Input,
  abandoned: AbortSignal,
): Promise<Result | { status: 'missing' }> {
  return transfer(moves, from, input.key, abandoned, (taken) => moves.runner.run(script, { ...input, taken }))
}
