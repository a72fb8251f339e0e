import { SessionError } from '../../core/errors.js'
import type { FieldRead, IncrementOptions, IncrementResult, SessionKey } from '../../core/store.js'
import { coldFirst, syncHotOrDistrust, type Tiers } from './writes.js'

function unsupported(what: string, store: string): SessionError {
  return new SessionError('ERR_SESSION_UNSUPPORTED', `${what} needs a cold store that has it; ${store} does not`)
}

/**
 * `increment` on a layered store: cold, the source of truth, adds in its own one atomic step; the
 * hot copy of the field is then removed, not overwritten, because concurrent increments may reach
 * hot in another order than cold applied them. The next read warms the current value.
 *
 * @param tiers - the stores and bookkeeping
 * @param key - session key
 * @param field - field name
 * @param options - the increment as the layer asked for it
 * @returns cold's result
 */
export async function incrementLayered(
  tiers: Tiers,
  key: SessionKey,
  field: string,
  options: IncrementOptions,
): Promise<IncrementResult> {
  const { hot, cold } = tiers
  const increment = cold.increment?.bind(cold)
  if (increment === undefined) throw unsupported('increment()', cold.name)
  // Consuming prepareRegenerate(): the old id must not be served from hot once this resolves.
  const { result, follow } = await coldFirst(tiers, key, options.renameFrom, () => increment(key, field, options))
  if (!follow) return result
  if (result.status === 'written') {
    await syncHotOrDistrust(hot, [key], 'remove', (store) => store.remove(key, field))
  }
  return result
}

/**
 * `take` on a layered store: cold takes in its own atomic step, so of concurrent takes exactly one
 * gets the value; the hot copy is removed after it. A session cold does not hold may live in hot
 * alone (created by `hot-only` writes): hot is then its only tier, and hot's own atomic take decides,
 * as `get` and `remove` fall back to hot.
 *
 * @param tiers - the stores and bookkeeping
 * @param key - session key
 * @param field - field name
 * @returns cold's read, or hot's for a session only hot holds
 */
export async function takeLayered(tiers: Tiers, key: SessionKey, field: string): Promise<FieldRead> {
  const { hot, cold } = tiers
  if (cold.take === undefined) throw unsupported('take()', cold.name)
  const read = await cold.take(key, field)
  if (!hot.trusted(key)) return read
  if (read.live) {
    await syncHotOrDistrust(hot, [key], 'remove', (store) => store.remove(key, field))
    return read
  }
  if (hot.store.take === undefined) return read
  // A failing hot answers with cold's read, as every read falls back to cold, but buries nothing:
  // hot-only data has no cold copy, and a tombstone's repair would delete hot's only one.
  const inHot = await hot.call('take', (store) => (store.take as NonNullable<typeof store.take>)(key, field))
  return inHot?.live ? inHot : read
}
