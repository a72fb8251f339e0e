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

describe('LayeredStore remembered misses: how long', () => {
  // docs/layered.md: a write another process made can be hidden for at most missTtl. A slow cold
  // read counted its missTtl from when it ended, hiding a write made meanwhile for longer.
  it('counts missTtl from the start of the read that saw the miss, not its end', async () => {
    const activity = new KeyActivity(300)
    const key = newKey()
    const slow = activity.begin(key, 'role')
    await new Promise((resolve) => setTimeout(resolve, 200)) // a cold read that takes 200 ms
    activity.remember(slow, { live: true, ttl: 60_000, touched: false, value: undefined })
    activity.end(slow)
    expect(activity.recall(key, 'role', undefined)).toMatchObject({ live: true })
    await new Promise((resolve) => setTimeout(resolve, 150)) // 350 ms after the read began
    expect(activity.recall(key, 'role', undefined)).toBeUndefined()
    // A read that outlasted missTtl remembers nothing.
    const slower = activity.begin(key, 'role')
    await new Promise((resolve) => setTimeout(resolve, 320))
    activity.remember(slower, { live: false })
    activity.end(slower)
    expect(activity.recall(key, 'role', undefined)).toBeUndefined()
  })
})
