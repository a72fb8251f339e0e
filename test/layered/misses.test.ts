import { describe, expect, it } from 'vitest'
import { KeyActivity } from '../../src/stores/layered/activity.js'
import { newKey } from './helpers.js'

describe('LayeredStore remembered misses', () => {
  // SPEC §10: miss bookkeeping is O(1) amortised under any input. A flood of dead session keys
  // (one per hostile cookie) used to make every new miss scan the whole map: 40 ms per request.
  it('remembers a flood of dead sessions in constant time per miss, bounded in memory', () => {
    const activity = new KeyActivity(60_000)
    const miss = (key: string) => {
      const flight = activity.begin(key, 'user')
      activity.remember(flight, { live: false })
      activity.end(flight)
    }
    const first = Array.from({ length: 10_000 }, newKey)
    for (const key of first) miss(key)
    const flood = Array.from({ length: 6_000 }, newKey)
    const started = performance.now()
    for (const key of flood) miss(key)
    // A scan of 10 000 entries per miss takes seconds here; constant work per miss takes ~10 ms.
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(activity.recall(flood.at(-1) as string, 'user', undefined)).toEqual({ live: false })
    // Bounded: the oldest generation was dropped whole.
    expect(activity.recall(first[0] as string, 'user', undefined)).toBeUndefined()
  })
})
