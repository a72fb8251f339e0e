import { describe, expect, it } from 'vitest'
import { createSessionId, sessionKeyOf } from '../core/ids.js'
import type { WriteOptions } from '../core/store.js'
import { describeStoreConformance } from '../testing/store-conformance.js'
import { MemoryStore } from './memory.js'

describeStoreConformance({ name: 'MemoryStore', create: () => new MemoryStore() })

const CREATE: WriteOptions = { mode: 'update', session: 'create', fieldTtl: 60, sessionTtl: 60 }
const value = new Uint8Array([1])
const newKey = () => sessionKeyOf(createSessionId())

async function live(store: MemoryStore, key: string): Promise<boolean> {
  return (await store.get(key, 'n')).live
}

describe('MemoryStore bookkeeping', () => {
  it('evicts the least recently used session beyond maxSessions, where a read or a write counts as use', async () => {
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
    await store.write(short, 'n', value, { ...CREATE, fieldTtl: 1, sessionTtl: 0.05 })
    await store.write(long, 'n', value, CREATE)
    await new Promise((resolve) => setTimeout(resolve, 80))
    store.sweep()
    expect(store.size).toBe(1)
    expect(await live(store, long)).toBe(true)
    await store.close()
  })

  it('stores its own compact copy of a value, not a view into the caller’s buffer', async () => {
    const store = new MemoryStore()
    const key = newKey()
    const shared = Buffer.alloc(8192, 7)
    await store.write(key, 'n', shared.subarray(10, 13), CREATE)
    shared.fill(0)
    const read = await store.get(key, 'n')
    expect(read.live && [...(read.value ?? [])]).toEqual([7, 7, 7])
    expect(read.live && read.value?.buffer.byteLength).toBe(3)
    await store.close()
  })

  it('rejects a capacity or sweep interval that is not positive', () => {
    expect(() => new MemoryStore({ maxSessions: 0 })).toThrow(/maxSessions/)
    expect(() => new MemoryStore({ sweepInterval: 0 })).toThrow(/sweepInterval/)
  })
})
