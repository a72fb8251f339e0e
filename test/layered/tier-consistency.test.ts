import { describe, expect, it } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionKey, SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { bytes, fieldText, newKey, writeOptions } from './helpers.js'

// A delete (or expire, or revocation) ends the session in cold first, then in hot. A regenerate that
// runs between the two finds no session in cold. That is also what a session created by hot-only
// writes looks like, but this one's hot copy must not move to the new id: the delete would then
// miss it, and the deleted session would live on under the new id.

/** Hot whose first delete of `target` waits until the test lets it go: the moment between the tiers. */
function holdingHotDelete(target: SessionKey) {
  const hot = new MemoryStore()
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let held = false
  const store: SessionStore = Object.assign(Object.create(hot) as SessionStore, {
    name: 'memory',
    delete: async (key: SessionKey) => {
      if (!held && key === target) {
        held = true
        await released
      }
      return hot.delete(key)
    },
  })
  for (const name of ['get', 'getAll', 'write', 'remove', 'expire', 'rename'] as const) {
    Object.assign(store, { [name]: hot[name].bind(hot) })
  }
  return { store, hot, release }
}

describe('LayeredStore: a move between a delete in cold and in hot', () => {
  it.each(['rename', 'hot-only write'] as const)('does not carry the deleted session over (%s)', async (move) => {
    const cold = new MemoryStore()
    const [from, to] = [newKey(), newKey()]
    const { store: hotStore, hot, release } = holdingHotDelete(from)
    const layered = new LayeredStore({ hot: hotStore, cold, hotTimeout: 5_000 })
    await layered.write(from, 'user', bytes('alice'), writeOptions(600, 'create'))
    expect(fieldText(await hot.get(from, 'user'))).toBe('alice')

    const deleting = layered.delete(from)
    await expect.poll(async () => (await cold.get(from, 'user')).live).toBe(false)
    const moved =
      move === 'rename'
        ? await layered.rename(from, to)
        : await layered.write(to, 'cart', bytes('[]'), {
            ...writeOptions(600),
            renameFrom: from,
            extra: { strategy: 'hot-only' },
          })
    release()
    expect(await deleting).toBe(true)

    expect(moved).toMatchObject({ status: 'missing' })
    expect((await layered.get(to, 'user')).live).toBe(false)
    expect((await hot.getAll(to)).live).toBe(false)
    expect((await hot.getAll(from)).live).toBe(false)
    await layered.close()
  })

  it('still moves a session that only hot holds', async () => {
    const cold = new MemoryStore()
    const hot = new MemoryStore()
    const layered = new LayeredStore({ hot, cold })
    const [from, to] = [newKey(), newKey()]
    const hotOnly = { ...writeOptions(600, 'create'), extra: { strategy: 'hot-only' } }
    await layered.write(from, 'cart', bytes('[1]'), hotOnly)
    expect((await cold.getAll(from)).live).toBe(false)
    expect(await layered.rename(from, to)).toMatchObject({ status: 'renamed' })
    expect(fieldText(await layered.get(to, 'cart'))).toBe('[1]')
    const all = await layered.getAll(to)
    expect(all.live && [...all.fields.keys()]).toEqual(['cart'])
    await layered.close()
  })
})

describe('LayeredStore: a warmed copy never outlives its field', () => {
  it.each(['written', 'incremented'] as const)(
    'a field %s with a short TTL reads as gone when it expires',
    async (how) => {
      const cold = new MemoryStore()
      const hot = new MemoryStore()
      const layer = new SessionLayer({ store: new LayeredStore({ hot, cold }), cookie: { maxAge: 600 } })
      const first = layer.open(undefined)
      await first.update('user', 'ada')
      if (how === 'written') await first.update('attempts', 1, { ttl: 2 })
      else await first.increment('attempts', 1, { ttl: 2 })
      const cookie = String(await first.commit()).split(';')[0]
      const key = sessionKeyOf(first.id as string)
      // Hot has no copy of the field (the increment removed it; hot lost it): the next read warms it.
      await hot.remove(key, 'attempts')
      expect(await layer.open(cookie).get('attempts')).toBe(1)
      await expect.poll(async () => fieldText(await hot.get(key, 'attempts'))).toBeDefined()
      await new Promise((resolve) => setTimeout(resolve, 2_100))
      expect(await layer.open(cookie).get('attempts')).toBeUndefined()
      expect(await layer.open(cookie).get('user')).toBe('ada')
    },
  )
})

describe('LayeredStore: a hot-only write reports the session lifetime cold keeps', () => {
  it('never more than cold has left, so the cookie never outlives the session', async () => {
    const layered = new LayeredStore({ hot: new MemoryStore(), cold: new MemoryStore() })
    const key = newKey()
    await layered.write(key, 'user', bytes('ada'), writeOptions(60, 'create'))
    const written = await layered.write(key, 'cart', bytes('[1]'), {
      ...writeOptions(7_200),
      extra: { strategy: 'hot-only' },
    })
    expect(written).toMatchObject({ status: 'written' })
    expect(written.status === 'written' && written.ttl).toBeLessThanOrEqual(60_000)
    await layered.close()
  })
})

describe('LayeredStore: a revocation between a move in cold and in hot (another process)', () => {
  it('ends the hot copy still at the old key before it resolves', async () => {
    const cold = new MemoryStore()
    const hotStore = new MemoryStore()
    let release = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    // Process B's hot tier holds its rename: the move is done in cold, not yet in hot.
    const slowHot: SessionStore = Object.assign(countingStore(hotStore), {
      rename: async (from: SessionKey, to: SessionKey) => {
        await released
        return hotStore.rename(from, to)
      },
    })
    const a = new LayeredStore({ hot: hotStore, cold, hotTimeout: 5_000 })
    const b = new LayeredStore({ hot: slowHot, cold, hotTimeout: 5_000 })
    const [guest, from, to] = [newKey(), newKey(), newKey()]
    await a.write(guest, 'secret', bytes('card-1234'), writeOptions(600, 'create'))
    const login = { session: 'existing', renameFrom: guest, subject: 'user:1', meta: '{}', sessionTtl: 600 } as const
    expect(await a.bind?.(from, login)).toMatchObject({ status: 'bound' })
    // The copy every process would serve.
    expect(fieldText(await hotStore.get(from, 'secret'))).toBe('card-1234')

    const moving = b.rename(from, to)
    await expect.poll(async () => (await cold.getAll(to)).live).toBe(true)
    expect(await a.revokeSubject?.('user:1', {})).toEqual([to])
    // Revoked: no tier serves it, under either key, to any process.
    expect((await a.get(from, 'secret')).live).toBe(false)
    expect((await hotStore.getAll(from)).live).toBe(false)
    release()
    await moving.catch(() => undefined)
    expect((await a.get(to, 'secret')).live).toBe(false)
    expect((await b.get(from, 'secret')).live).toBe(false)
    await Promise.all([a.close(), b.close()])
  })
})

describe('LayeredStore over two stores that share their keys (a misconfiguration)', () => {
  it('never hands its own reserved fields to getAll', async () => {
    const shared = new MemoryStore()
    const layered = new LayeredStore({ hot: countingStore(shared), cold: countingStore(shared) })
    const key = newKey()
    await layered.write(key, 'cart', bytes('[1]'), { ...writeOptions(600, 'create'), extra: { strategy: 'hot-only' } })
    const all = await layered.getAll(key)
    expect(all.live && [...all.fields.keys()]).toEqual(['cart'])
    await layered.close()
  })
})
