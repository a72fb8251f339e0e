import { randomBytes } from 'node:crypto'
import type { RenameResult } from '../../core/store.js'
import type { ScriptRunner } from './runner.js'
import type { RedisScript } from './script.js'
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
 */

/**
 * Run step 2 (`place`) for a session taken from `from`. When the target did not take it — a
 * collision, or a failure — put it back at the source (only if absent there), then report.
 */
async function placeOrGiveBack<Result extends { status: string }>(
  runner: ScriptRunner,
  source: { key: string; token: string },
  taken: TakenSession,
  place: () => Promise<Result>,
): Promise<Result> {
  let result: Result
  try {
    result = await place()
  } catch (error) {
    // The step's own error is the one to report; a failed give-back leaves the session lost,
    // which is where it stood before this attempt.
    await runner.run(GIVE_BACK, { ...source, taken }).catch(() => undefined)
    throw error
  }
  if (result.status === 'collision') await runner.run(GIVE_BACK, { ...source, taken })
  return result
}

/** Move a session that was placed at `to` back to its source (only while the source's tombstone is this move's). */
async function moveBack(runner: ScriptRunner, to: string, source: { key: string; token: string }): Promise<void> {
  const taken = await runner.run(TAKE, { key: to, token: source.token })
  if (taken !== undefined) await runner.run(GIVE_BACK, { ...source, taken })
}

/**
 * Take the session at `from`, then `place` it. When the caller gave up meanwhile (its deadline
 * passed, `abandoned` fired) but a step still went through later — the client kept retrying it
 * across a failover — nobody will ever learn the new id: the session goes back to `from`, as if
 * the failed operation had not run.
 */
async function transfer<Result extends { status: string }>(
  runner: ScriptRunner,
  from: string,
  to: string,
  abandoned: AbortSignal,
  place: (taken: TakenSession) => Promise<Result>,
): Promise<Result | { status: 'missing' }> {
  const source = { key: from, token: randomBytes(12).toString('base64url') }
  const taken = await runner.run(TAKE, source)
  if (taken === undefined) return { status: 'missing' }
  if (abandoned.aborted) {
    await runner.run(GIVE_BACK, { ...source, taken })
    throw new Error('abandoned after the deadline; the session was put back')
  }
  const result = await placeOrGiveBack(runner, source, taken, () => place(taken))
  if (abandoned.aborted && result.status !== 'collision') await moveBack(runner, to, source)
  return result
}

/**
 * Move the session at `from` to `to` across slots.
 *
 * @param runner - the Cluster client's script runner
 * @param from - source Redis key
 * @param to - target Redis key
 * @param abandoned - fires when the caller stopped waiting (the store's timeout)
 * @returns the rename's result (`missing` when there was nothing to move)
 */
export async function renameAcrossSlots(
  runner: ScriptRunner,
  from: string,
  to: string,
  abandoned: AbortSignal,
): Promise<RenameResult> {
  return transfer(runner, from, to, abandoned, (taken) => runner.run(PLACE, { key: to, taken }))
}

/**
 * `WRITE` (or `INCREMENT`) with `renameFrom` across slots: take the source, then create the target
 * from it and write the field in one script on the target's node.
 *
 * @param runner - the Cluster client's script runner
 * @param from - source Redis key
 * @param script - `WRITE` or `INCREMENT`
 * @param input - the write, whose `key` is the target
 * @param abandoned - fires when the caller stopped waiting (the store's timeout)
 * @returns the write's result (`missing` when there was nothing to move)
 */
export async function writeAcrossSlots<Input extends { key: string }, Result extends { status: string }>(
  runner: ScriptRunner,
  from: string,
  script: RedisScript<Input & { taken?: TakenSession | undefined }, Result>,
  input: Input,
  abandoned: AbortSignal,
): Promise<Result | { status: 'missing' }> {
  return transfer(runner, from, input.key, abandoned, (taken) => runner.run(script, { ...input, taken }))
}
