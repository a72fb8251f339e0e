import { afterEach, describe, expect, it, vi } from 'vitest'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { bytes, DAY, type MemoryLayers, memoryLayers, newKey, text, writeOptions } from './helpers.js'

let layers: MemoryLayers
afterEach(() => layers?.close())

describe('LayeredStore edge cases', () => {
  it('a throwing onError never turns an absorbed hot failure into a failed call', async () => {
    const plainHot = new MemoryStore()
    const cold = new MemoryStore()
    const hot = countingStore(plainHot)
    const layered = new LayeredStore({
      hot,
      cold,
      onError: () => {
        throw new Error('logger broke')
      },
    })
    const key = newKey()
    hot.failing = true
    expect(await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))).toMatchObject({ status: 'written' })
    expect(await layered.get(key, 'a')).toMatchObject({ live: true })
    await layered.close()
    await Promise.all([plainHot.close(), cold.close()])
  })

  it('a hot-only write to a session whose hot copy is untrusted repairs it first', async () => {
    layers = memoryLayers({ repairInterval: 60_000 })
    const { layered, hot, plainHot } = layers
    const key = newKey()
    await layered.write(key, 'user', bytes('guest'), writeOptions(DAY, 'create'))
    hot.failing = true
    await layered.write(key, 'user', bytes('ada'), writeOptions(DAY))
    hot.failing = false
    expect(text(((await plainHot.get(key, 'user')) as { value?: Uint8Array }).value)).toBe('guest')
    const written = await layered.write(key, 'cart', bytes('1'), writeOptions(60, 'existing', { strategy: 'hot-only' }))
    expect(written).toMatchObject({ status: 'written' })
    // The stale hot copy went first; the hot session now holds only the hot-only field.
    expect(await plainHot.get(key, 'user')).toMatchObject({ live: true, value: undefined })
    const read = await layered.get(key, 'user')
    expect(read.live && text(read.value)).toBe('ada')
  })

  it('a write-through write to a session that lives only in hot reports it missing and drops it', async () => {
    layers = memoryLayers()
    const { layered, plainHot } = layers
    const key = newKey()
    await layered.write(key, 'cart', bytes('1'), writeOptions(60, 'create', { strategy: 'hot-only' }))
    expect(await layered.write(key, 'user', bytes('ada'), writeOptions(DAY))).toEqual({ status: 'missing' })
    await vi.waitFor(async () => expect(await plainHot.get(key, 'cart')).toEqual({ live: false }))
  })

  it('moves hot-only fields along on regenerate', async () => {
    layers = memoryLayers()
    const { layered, plainHot } = layers
    const from = newKey()
    const to = newKey()
    await layered.write(from, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    await layered.write(from, 'cart', bytes('3'), writeOptions(60, 'existing', { strategy: 'hot-only' }))
    expect(await layered.rename(from, to)).toMatchObject({ status: 'renamed' })
    const cart = await layered.get(to, 'cart')
    expect(cart.live && text(cart.value)).toBe('3')
    expect(await plainHot.get(from, 'cart')).toEqual({ live: false })
    expect(await layered.get(from, 'user')).toEqual({ live: false })
  })
  it('refuses the warm lease field as a field name, before any store call', async () => {
    layers = memoryLayers()
    const { layered, hot, cold } = layers
    const key = newKey()
    const refused = { code: 'ERR_SESSION_ARGUMENT' }
    await expect(layered.write(key, 'ruts:warm-lease', bytes('x'), writeOptions(DAY, 'create'))).rejects.toMatchObject(
      refused,
    )
    await expect(layered.get(key, 'ruts:warm-lease')).rejects.toMatchObject(refused)
    await expect(layered.remove(key, 'ruts:warm-lease')).rejects.toMatchObject(refused)
    expect(hot.total() + cold.total()).toBe(0)
  })
})
