import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { UNREACHABLE_FIELD } from '../../src/testing/counting-store.js'
import {
  bytes,
  DAY,
  delayed,
  fieldText,
  hanging,
  type MemoryLayers,
  memoryLayers,
  newKey,
  sleep,
  text,
  writeOptions,
} from './helpers.js'

let layers: MemoryLayers
afterEach(() => layers?.close())

describe('LayeredStore with a failing hot store (fault injection)', () => {
  it('serves reads and writes from cold, reporting each hot failure', async () => {
    layers = memoryLayers()
    const { layered, hot, errors } = layers
    const key = newKey()
    await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    hot.failing = true
    expect(fieldText(await layered.get(key, 'a'))).toBe('1')
    expect(await layered.write(key, 'b', bytes('2'), writeOptions(DAY))).toMatchObject({ status: 'written' })
    expect(fieldText(await layered.get(key, 'b'))).toBe('2')
    expect(errors.length).toBeGreaterThanOrEqual(2)
    expect(errors.every((error) => error.code === 'ERR_SESSION_STORE')).toBe(true)
  })

  it('never serves a value hot missed while it was down, and trusts hot again once repaired', async () => {
    layers = memoryLayers()
    const { layered, hot, plainHot } = layers
    const key = newKey()
    await layered.write(key, 'role', bytes('guest'), writeOptions(DAY, 'create'))
    hot.failing = true
    await layered.write(key, 'role', bytes('admin'), writeOptions(DAY))
    hot.failing = false
    // Hot still holds 'guest' until the repair loop deletes that copy; this process reads cold meanwhile.
    expect(fieldText(await plainHot.get(key, 'role'))).toBe('guest')
    expect(fieldText(await layered.get(key, 'role'))).toBe('admin')
    await vi.waitFor(async () => expect(await plainHot.get(key, 'role')).toEqual({ live: false }))
    expect(fieldText(await layered.get(key, 'role'))).toBe('admin')
    await vi.waitFor(async () => expect(fieldText(await plainHot.get(key, 'role'))).toBe('admin'))
  })

  // A hot-only write that consumes a prepared regenerate moves the session in cold first. When hot
  // then fails, hot still holds the session at the old id: it was served from there, stale.
  it('a hot-only write that moved the session in cold and then failed in hot leaves no stale hot copy trusted', async () => {
    layers = memoryLayers()
    const { layered } = layers
    const [key, to] = [newKey(), newKey()]
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    expect(fieldText(await layered.get(key, 'user'))).toBe('ada')
    const moving = { ...writeOptions(DAY, 'existing', { strategy: 'hot-only' }), renameFrom: key }
    await expect(layered.write(to, UNREACHABLE_FIELD, bytes('x'), moving)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE',
    })
    // Cold holds the session at `to` now; the old id is no session, whatever hot still holds.
    expect(await layered.get(key, 'user')).toEqual({ live: false })
    expect(fieldText(await layered.get(to, 'user'))).toBe('ada')
  })

  // SPEC §10: a delete, expire or regenerate that hot did not confirm must not resolve, or another
  // process would go on serving the old session from hot (this one may die before its repair loop).
  it('delete, expire and regenerate fail with nothing changed while hot is unreachable', async () => {
    layers = memoryLayers()
    const { layered, hot, cold } = layers
    const [key, to, renamedByWrite] = [newKey(), newKey(), newKey()]
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    hot.failing = true
    cold.reset()
    const refused = { code: 'ERR_SESSION_STORE' }
    await expect(layered.delete(key)).rejects.toMatchObject(refused)
    await expect(layered.expire(key, 0)).rejects.toMatchObject(refused)
    await expect(layered.expire(key, 60)).rejects.toMatchObject(refused)
    await expect(layered.rename(key, to)).rejects.toMatchObject(refused)
    const write = layered.write(renamedByWrite, 'role', bytes('admin'), { ...writeOptions(DAY), renameFrom: key })
    await expect(write).rejects.toMatchObject(refused)
    // Checked before cold was touched: the session is intact, under its old key only.
    expect(cold.total()).toBe(0)
    hot.failing = false
    expect(fieldText(await layered.get(key, 'user'))).toBe('ada')
    expect(await layered.get(to, 'user')).toEqual({ live: false })
    expect(await layered.delete(key)).toBe(true)
    expect(await layered.get(key, 'user')).toEqual({ live: false })
  })

  it('a delete whose hot step fails after cold rejects; this process never serves it, a retry resolves', async () => {
    const plainHot = new MemoryStore()
    const plainCold = new MemoryStore()
    let refuse: string | undefined
    // Hot answers the lease calls but refuses to delete the session itself (a timeout, a failover).
    const hot: SessionStore = { ...delayed(plainHot, () => 0) }
    hot.delete = (key) => (key === refuse ? Promise.reject(new Error('hot delete lost')) : plainHot.delete(key))
    const layered = new LayeredStore({ hot, cold: plainCold, repairInterval: 60_000, onError: () => {} })
    const other = new LayeredStore({ hot: plainHot, cold: plainCold })
    const key = newKey()
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    refuse = key
    await expect(layered.delete(key)).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    // Cold dropped it; hot still has the copy another process would serve: the delete did not resolve.
    expect(fieldText(await plainHot.get(key, 'user'))).toBe('ada')
    for (let i = 0; i < 3; i++) {
      expect(await layered.get(key, 'user')).toEqual({ live: false })
      expect(await layered.getAll(key)).toEqual({ live: false })
    }
    refuse = undefined
    await expect(layered.delete(key)).resolves.toBe(true)
    for (const store of [layered, other]) expect(await store.get(key, 'user')).toEqual({ live: false })
    expect(await plainHot.get(key, 'user')).toEqual({ live: false })
    await Promise.all([layered.close(), other.close(), plainHot.close(), plainCold.close()])
  })

  it('waits for a hot step slower than hotTimeout after cold changed: a regenerate of a big session resolves', async () => {
    // Moving a big session between Cluster nodes can take longer than hotTimeout (250 ms); cutting it
    // off there failed a regenerate cold had already made, and the user lost the session.
    const plainHot = new MemoryStore()
    const plainCold = new MemoryStore()
    const hot: SessionStore = { ...delayed(plainHot, () => 0) }
    hot.rename = async (from, to) => {
      await sleep(600)
      return plainHot.rename(from, to)
    }
    const key = newKey()
    const to = newKey()
    // Deleting the session itself is slow too (its warm lease, a small key, is not).
    hot.delete = async (deleted) => {
      if (deleted === to) await sleep(600)
      return plainHot.delete(deleted)
    }
    const layered = new LayeredStore({ hot, cold: plainCold, hotTimeout: 250, onError: () => {} })
    const other = new LayeredStore({ hot: plainHot, cold: plainCold })
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    expect(await layered.rename(key, to)).toMatchObject({ status: 'renamed' })
    for (const store of [layered, other]) {
      expect(fieldText(await store.get(to, 'user'))).toBe('ada')
      expect(await store.get(key, 'user')).toEqual({ live: false })
    }
    expect(await layered.delete(to)).toBe(true)
    for (const store of [layered, other]) expect(await store.get(to, 'user')).toEqual({ live: false })
    await Promise.all([layered.close(), other.close(), plainHot.close(), plainCold.close()])
  })

  it('allows the longer deadline to every hot step after cold changed, lease deletes included', async () => {
    const plainHot = new MemoryStore()
    const plainCold = new MemoryStore()
    const hot: SessionStore = { ...delayed(plainHot, () => 0) }
    const key = newKey()
    let leaseDeletes = 0
    // Step 1's lease delete answers at once; step 3's (after cold changed) takes 600 ms.
    hot.delete = async (deleted) => {
      if (deleted !== key && ++leaseDeletes === 2) await sleep(600)
      return plainHot.delete(deleted)
    }
    const layered = new LayeredStore({ hot, cold: plainCold, hotTimeout: 250, onError: () => {} })
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    expect(await layered.delete(key)).toBe(true)
    expect(leaseDeletes).toBe(2)
    expect(await plainHot.get(key, 'user')).toEqual({ live: false })
    await Promise.all([layered.close(), plainHot.close(), plainCold.close()])
  })

  it('does not remember a miss seen while hot failed: a hot-only session is back as soon as hot is', async () => {
    layers = memoryLayers({ missTtl: 60_000 })
    const key = newKey()
    await layers.layered.write(key, 'cart', bytes('3'), writeOptions(60, 'create', { strategy: 'hot-only' }))
    layers.hot.failing = true
    expect(await layers.layered.get(key, 'cart')).toEqual({ live: false }) // cold answers alone
    layers.hot.failing = false
    expect(fieldText(await layers.layered.get(key, 'cart'))).toBe('3')
  })

  it('refuses a hot-only write while hot is down (it has nowhere else to go)', async () => {
    layers = memoryLayers()
    layers.hot.failing = true
    const write = layers.layered.write(
      newKey(),
      'cart',
      bytes('1'),
      writeOptions(60, 'create', { strategy: 'hot-only' }),
    )
    await expect(write).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    expect(layers.cold.calls.write).toBe(0)
  })

  it('distrusts hot for every session when more sessions are buried than it can track', async () => {
    layers = memoryLayers({ maxTombstones: 1, hotTtl: 1 })
    const { layered, hot } = layers
    const keys = [newKey(), newKey()]
    for (const key of keys) await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    hot.failing = true
    // Each write's hot step fails: its session is buried (its hot copy may now be stale).
    for (const key of keys) await layered.write(key, 'a', bytes('2'), writeOptions(DAY))
    hot.failing = false
    const other = newKey()
    await layered.write(other, 'a', bytes('1'), writeOptions(DAY, 'create'))
    hot.reset()
    expect(fieldText(await layered.get(other, 'a'))).toBe('1')
    expect(hot.calls.get).toBe(0)
    // After the longest hot TTL written (1 s) every stale copy has expired: hot is used again.
    await sleep(1_100)
    await layered.get(other, 'a')
    expect(hot.calls.get).toBe(1)
  })
})

describe('LayeredStore with a hot store that stops answering', () => {
  it('costs at most hotTimeout per hot call', async () => {
    const hot = new MemoryStore()
    const cold = new MemoryStore()
    const stuck = hanging(hot)
    const layered = new LayeredStore({ hot: stuck, cold, hotTimeout: 100, onError: () => {} })
    const key = newKey()
    await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    stuck.hung = true
    // Each operation waits for one hot call at most (the slack absorbs a loaded test machine).
    const timed = async <T>(work: () => Promise<T>): Promise<T> => {
      const started = performance.now()
      const result = await work()
      expect(performance.now() - started).toBeLessThan(100 + 400)
      return result
    }
    expect(fieldText(await timed(() => layered.get(key, 'a')))).toBe('1')
    expect(await timed(() => layered.write(key, 'b', bytes('2'), writeOptions(DAY)))).toMatchObject({
      status: 'written',
    })
    expect(fieldText(await timed(() => layered.get(key, 'b')))).toBe('2')
    // A delete cannot resolve without hot's word; it fails within one hot timeout, changing nothing.
    await expect(timed(() => layered.delete(key))).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    stuck.hung = false
    await layered.close()
    await Promise.all([hot.close(), cold.close()])
  })
})

describe('LayeredStore under concurrent reads in one process', () => {
  // Random latency at both tiers, so reads, warms and the delete/rename interleave at the tiers.
  function racing(): { layered: LayeredStore; plainHot: MemoryStore; stores: MemoryStore[] } {
    const plainHot = new MemoryStore()
    const plainCold = new MemoryStore()
    const jitter = (store: SessionStore): SessionStore => delayed(store, () => Math.random() * 4)
    const layered = new LayeredStore({ hot: jitter(plainHot), cold: jitter(plainCold), missTtl: 0 })
    return { layered, plainHot, stores: [plainHot, plainCold] }
  }

  it('never serves a deleted session after the delete, nor lets a racing warm resurrect it in hot', async () => {
    const { layered, plainHot, stores } = racing()
    for (let round = 0; round < 30; round++) {
      const key = newKey()
      await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
      await layered.write(key, 'b', bytes('2'), writeOptions(DAY))
      await plainHot.delete(key) // force the reads below through cold and into warming
      const reads = Array.from({ length: 12 }, (_, i) => sleep(i % 4).then(() => layered.get(key, i % 2 ? 'a' : 'b')))
      await sleep(round % 5)
      await layered.delete(key)
      expect(await layered.get(key, 'a')).toEqual({ live: false })
      await Promise.all(reads)
      await layered.close() // waits for background warms
      expect(await plainHot.getAll(key)).toEqual({ live: false })
      expect(await layered.get(key, 'a')).toEqual({ live: false })
    }
    await Promise.all(stores.map((store) => store.close()))
  })

  it('never serves a renamed session under its old key after the rename', async () => {
    const { layered, plainHot, stores } = racing()
    for (let round = 0; round < 30; round++) {
      const from = newKey()
      const to = newKey()
      await layered.write(from, 'a', bytes('1'), writeOptions(DAY, 'create'))
      if (round % 2) await plainHot.delete(from)
      const reads = Array.from({ length: 12 }, (_, i) => sleep(i % 4).then(() => layered.get(from, 'a')))
      await sleep(round % 5)
      await layered.rename(from, to)
      expect(await layered.get(from, 'a')).toEqual({ live: false })
      await Promise.all(reads)
      await layered.close()
      expect(await plainHot.getAll(from)).toEqual({ live: false })
      expect(fieldText(await layered.get(to, 'a'))).toBe('1')
    }
    await Promise.all(stores.map((store) => store.close()))
  })

  it('leaves hot agreeing with cold after racing writes, removes and reads of one field', async () => {
    const { layered, plainHot, stores } = racing()
    const key = newKey()
    await layered.write(key, 'f', bytes('0'), writeOptions(DAY, 'create'))
    const operations = Array.from({ length: 40 }, (_, i) => {
      if (i % 5 === 0) return layered.remove(key, 'f')
      if (i % 3 === 0)
        return layered.write(key, 'f', bytes(`c${i}`), writeOptions(DAY, 'existing', { strategy: 'cold-only' }))
      if (i % 2 === 0) return layered.get(key, 'f')
      return layered.write(key, 'f', bytes(`w${i}`), writeOptions(DAY))
    })
    await Promise.all(operations)
    await layered.close()
    const hot = await plainHot.get(key, 'f')
    const truth = await stores[1]?.get(key, 'f')
    if (hot.live && hot.value !== undefined) expect(text(hot.value)).toBe(truth?.live ? text(truth.value) : 'gone')
    await Promise.all(stores.map((store) => store.close()))
  })
})
