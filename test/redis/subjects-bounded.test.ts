import { expect, it } from 'vitest'
import type { BindOptions } from '../../src/core/store.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { subjectIndexKey } from '../../src/stores/redis/subject-keys.js'
import { clientKinds, connections, describeRedis, randomKey, sleep, storeFor, uniquePrefix } from './clients.js'

/** A store deadline for a loaded machine: these tests are about outcomes, not latency. */
const PATIENT = 10_000

// SPEC §13: a subject index never grows without bound. Thousands of logins whose sessions expired
// or were logged out leave no trace that outlives them: binds prune a few due entries each, a list
// prunes all dead ones, a delete takes its own entry. No cleanup job.

const LOGINS = 2_000
const login = (subject: string, sessionTtl: number): BindOptions => ({
  session: 'create',
  subject,
  meta: '{}',
  sessionTtl,
})

/** Run `work` for 0…count-1, `parallel` at a time. */
async function inBatches(count: number, parallel: number, work: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, i) => work(start + i)))
  }
}

describeRedis('RedisStore subjects: the index stays bounded', () => {
  const connect = connections()

  it.each(clientKinds)('thousands of logins, expired or logged out ($name)', { timeout: 120_000 }, async (kind) => {
    const connected = await connect(kind)
    const prefix = uniquePrefix()
    const store: RedisStore = storeFor(connected.client, { prefix, timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const index = subjectIndexKey(prefix, subject)
    const size = async () => Number(await connected.raw(index, 'ZCARD', index))

    // Logged out at once: each delete takes its entry with it.
    await inBatches(LOGINS / 4, 25, async () => {
      const key = randomKey()
      await store.bind(key, login(subject, 600))
      await store.delete(key)
    })
    expect(await size()).toBe(0)

    // Expired: 2,000 one-second sessions. Once they are due, binds prune them (16 each, no list).
    await inBatches(LOGINS, 25, () => store.bind(randomKey(), login(subject, 1)))
    await sleep(1_100)
    const live: string[] = []
    for (let i = 0; i < 150; i++) {
      const key = randomKey()
      live.push(key)
      await store.bind(key, login(subject, 600))
    }
    // 150 binds × 16 checks ≥ 2,000 dead entries.
    expect(await size()).toBe(150)
    // One list prunes every dead entry.
    expect((await store.listSubject(subject)).map((each) => each.key).sort()).toEqual(live.sort())
    expect(await size()).toBe(150)
  })
})
