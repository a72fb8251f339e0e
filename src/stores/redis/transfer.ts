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
 * The old id is never valid after step 1, and the session is never in two places: this favours
 * the purpose of regenerate (invalidate the old id) over availability. If the process or the
 * target node fails between the steps, the session is lost (the user is signed out), never
 * duplicated. Only the request doing the rename knows the new id, so no other request can observe
 * the moment where the session is in neither place.
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

/** A collision means the target never got the data: put the session back where it was. */
async function giveBack(runner: ScriptRunner, from: string, taken: ScriptArgument[]): Promise<void> {
  await runner.run(PLACE, [from], taken)
}

const COLLISION = 3

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
  const reply = await runner.run(PLACE, [to], taken)
  if (int(list(reply)[0]) === COLLISION) await giveBack(runner, from, taken)
  return reply
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
  const reply = await runner.run(WRITE, [to], [...args, ...taken])
  if (int(list(reply)[0]) === COLLISION) await giveBack(runner, from, taken)
  return reply
}
