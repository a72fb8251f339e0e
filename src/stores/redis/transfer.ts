import type { ScriptArgument, ScriptRunner } from './client.js'
import { bytes, int, list, toBuffer } from './replies.js'
import { PLACE, TAKE, WRITE } from './scripts.js'

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
 * session is put back at the source the same way, and the error is reported: the operation then
 * changed nothing, as a failed atomic rename would. The new id reaches the browser only in the
 * response of a successful operation, so if the failed step did leave a copy at the target, no one
 * holds its id and it expires on its own TTL.
 *
 * What stays possible: the process dies between the steps, or step 2 times out and still runs
 * later. The session is then lost (the user is signed out), never usable under two ids. Only the
 * request doing the rename knows the new id, so no other request can observe the moment where the
 * session is in neither place.
 */

/** The taken session as script arguments: source server ms, pttl, then name/entry pairs. */
async function take(runner: ScriptRunner, from: string): Promise<ScriptArgument[] | undefined> {
  const [found, ...rest] = list(await runner.run(TAKE, [from], []))
  if (int(found) === 0) return undefined
  return rest.map((element) => {
    if (typeof element === 'number') return String(element)
    const raw = bytes(element)
    if (raw === undefined) throw new TypeError('unexpected script reply')
    return toBuffer(raw)
  })
}

const COLLISION = 3

/**
 * Run step 2 (`place`) for a session taken from `from`. When the target did not take it — a
 * collision, or a failure — put it back at the source (only if absent there), then report.
 */
async function placeOrGiveBack(
  runner: ScriptRunner,
  from: string,
  taken: ScriptArgument[],
  place: () => Promise<unknown>,
): Promise<unknown> {
  let reply: unknown
  try {
    reply = await place()
  } catch (error) {
    // The step's own error is the one to report; a failed give-back leaves the session lost,
    // which is where it stood before this attempt.
    await runner.run(PLACE, [from], taken).catch(() => undefined)
    throw error
  }
  if (int(list(reply)[0]) === COLLISION) await runner.run(PLACE, [from], taken)
  return reply
}

/**
 * Move the session at `from` to `to` across slots.
 *
 * @param runner - the Cluster client's script runner
 * @param from - source Redis key
 * @param to - target Redis key
 * @returns the `PLACE` reply (`{0}` when there was nothing to move)
 */
export async function renameAcrossSlots(runner: ScriptRunner, from: string, to: string): Promise<unknown> {
  const taken = await take(runner, from)
  if (taken === undefined) return [0]
  return placeOrGiveBack(runner, from, taken, () => runner.run(PLACE, [to], taken))
}

/**
 * `WRITE` with `renameFrom` across slots: take the source, then create the target from it and
 * write the field in one script on the target's node.
 *
 * @param runner - the Cluster client's script runner
 * @param from - source Redis key
 * @param to - target Redis key
 * @param args - the seven `WRITE` arguments
 * @returns the `WRITE` reply (`{0}`, missing, when there was nothing to move)
 */
export async function writeAcrossSlots(
  runner: ScriptRunner,
  from: string,
  to: string,
  args: readonly ScriptArgument[],
): Promise<unknown> {
  const taken = await take(runner, from)
  if (taken === undefined) return [0]
  return placeOrGiveBack(runner, from, taken, () => runner.run(WRITE, [to], [...args, ...taken]))
}
