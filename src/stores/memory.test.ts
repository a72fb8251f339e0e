import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WriteOptions } from '../core/store.js'
import { describeStoreConformance } from '../testing/store-conformance.js'
import { newKey } from '../testing/values.js'
import { MemoryStore } from './memory.js'

const CREATE: WriteOptions = { mode: 'update', session: 'create', fieldTtl: 60, sessionTtl: 60 }
const value = new Uint8Array([1])

let created: MemoryStore | undefined
describeStoreConformance({
  name: 'MemoryStore',
  create: () => {
    created = new MemoryStore()
    return created
  },
  subjectIndexSize: (store, subject) => (store as MemoryStore).subjectIndexSize(subject),
  // Cases that hold for the default store run on the suite's own, with its set-up and teardown.
  extraTests: ({ store }) => {
    it('hands its own cases the suite store', async () => {
      expect(await store()).toBe(created)
    })

    it('stores its own compact copy of a value, not a view into the caller’s buffer', async () => {
      const s = await store()
      const key = newKey()
      const shared = Buffer.alloc(8192, 7)
      await s.write(key, 'n', shared.subarray(10, 13), CREATE)
      shared.fill(0)
      const read = await s.get(key, 'n')
      expect(read.live && [...(read.value ?? [])]).toEqual([7, 7, 7])
      expect(read.live && read.value?.buffer.byteLength).toBe(3)
    })
  },
})

async function live(store: MemoryStore, key: string): Promise<boolean> {
  return (await store.get(key, 'n')).live
}

afterEach(() => void vi.useRealTimers())

describe('MemoryStore bookkeeping', () => {
  // SPEC §10: a storm of one-shot sessions (each created, even written twice by its creating
  // request, and never used again) evicts only its own kind; a session that came back stays.
  it('keeps a session used again by a later request through any storm of one-shot sessions', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const store = new MemoryStore({ maxSessions: 100 })
    const [returning, fresh] = [newKey(), newKey()]
    await store.write(returning, 'n', value, CREATE)
    await store.write(fresh, 'n', value, CREATE)
    vi.setSystemTime(Date.now() + 2_000)
    expect(await live(store, returning)).toBe(true)
    for (let i = 0; i < 10_000; i++) {
      const key = newKey()
      await store.write(key, 'n', value, CREATE)
      await store.write(key, 'm', value, { ...CREATE, session: 'existing' })
      expect(store.size).toBeLessThanOrEqual(100)
    }
    expect(await live(store, returning)).toBe(true)
    expect(await live(store, fresh)).toBe(false)
    await store.close()
  })

  it('sends the oldest protected sessions back to probation once protected is full, within maxSessions', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const store = new MemoryStore({ maxSessions: 5 })
    const keys = Array.from({ length: 5 }, newKey)
    for (const key of keys) await store.write(key, 'n', value, CREATE)
    vi.setSystemTime(Date.now() + 2_000)
    // Protected holds 4 (80 %): promoting all five demotes the first one again.
    for (const key of keys) expect(await live(store, key)).toBe(true)
    await store.write(newKey(), 'n', value, CREATE)
    expect(store.size).toBe(5)
    expect(await live(store, keys[0] as string)).toBe(false)
    for (const key of keys.slice(1)) expect(await live(store, key)).toBe(true)
    await store.close()
  })

  it('evicts the least recently used session beyond maxSessions among sessions not yet used again', async () => {
    const store = new MemoryStore({ maxSessions: 3 })
    const [a, b, c, d, e] = [newKey(), newKey(), newKey(), newKey(), newKey()]
    for (const key of [a, b, c]) await store.write(key, 'n', value, CREATE)
    await store.get(a, 'n') // a is now the most recent; b is the oldest
    await store.write(d, 'n', value, CREATE)
    expect(store.size).toBe(3)
    expect(await live(store, b)).toBe(false)
    await store.write(c, 'n', value, { ...CREATE, session: 'existing' }) // order now: a, d, c
    await store.write(e, 'n', value, CREATE)
    expect(await live(store, a)).toBe(false)
    expect([await live(store, c), await live(store, d), await live(store, e)]).toEqual([true, true, true])
    await store.close()
  })

  it('keeps evicting in order across deletes and renames (the recency list stays consistent)', async () => {
    const store = new MemoryStore({ maxSessions: 2 })
    const [a, b, c, renamed] = [newKey(), newKey(), newKey(), newKey()]
    await store.write(a, 'n', value, CREATE)
    await store.write(b, 'n', value, CREATE)
    expect((await store.rename(a, renamed)).status).toBe('renamed')
    expect(await store.delete(b)).toBe(true)
    await store.write(c, 'n', value, CREATE)
    expect(store.size).toBe(2)
    expect([await live(store, renamed), await live(store, c)]).toEqual([true, true])
    for (let i = 0; i < 50; i++) await store.write(newKey(), 'n', value, CREATE)
    expect(store.size).toBe(2)
    await store.close()
  })

  it('sweep() drops expired sessions and nothing else', async () => {
    const store = new MemoryStore()
    const short = newKey()
    const long = newKey()
    vi.useFakeTimers({ toFake: ['Date'] })
    await store.write(short, 'n', value, { ...CREATE, fieldTtl: 1, sessionTtl: 1 })
    await store.write(long, 'n', value, CREATE)
    vi.setSystemTime(Date.now() + 1_500)
    store.sweep()
    expect(store.size).toBe(1)
    expect(await live(store, long)).toBe(true)
    await store.close()
  })

  it('rejects a capacity or sweep interval that is not positive', () => {
    expect(() => new MemoryStore({ maxSessions: 0 })).toThrow(/maxSessions/)
    expect(() => new MemoryStore({ sweepInterval: 0 })).toThrow(/sweepInterval/)
  })
})
