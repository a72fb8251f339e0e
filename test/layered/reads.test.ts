import { afterEach, describe, expect, it, vi } from 'vitest'
import { LayeredStore } from '../../src/stores/layered/index.js'
import {
  bytes,
  DAY,
  expectSeedExample,
  fieldText,
  type MemoryLayers,
  memoryLayers,
  newKey,
  sleep,
  writeOptions,
} from './helpers.js'

let layers: MemoryLayers
afterEach(() => layers?.close())

describe('LayeredStore reads', () => {
  it("the seed's example: 30 days cold, 1 s hot; after the hot TTL it is read from cold and re-warmed", async () => {
    layers = memoryLayers()
    const { layered, cold, plainHot } = layers
    const key = await expectSeedExample(layered, plainHot, cold, 10)

    // The warmed copy kept the 1 s hot TTL the write asked for.
    await sleep(1_200)
    expect(await plainHot.get(key, 'user')).toMatchObject({ live: true, value: undefined })
  })

  it('falls through to cold when hot lacks the field or the whole session', async () => {
    layers = memoryLayers()
    const { layered, plainHot, plainCold, cold } = layers
    const key = newKey()
    await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    // Written to cold by another process (not through this layer): hot has only some fields.
    await plainCold.write(key, 'b', bytes('2'), writeOptions(DAY))
    cold.reset()
    expect(fieldText(await layered.get(key, 'b'))).toBe('2')
    expect(cold.calls.get).toBe(1)
    await plainHot.delete(key)
    expect(fieldText(await layered.get(key, 'a'))).toBe('1')
    expect(cold.calls.get).toBe(2)
    await vi.waitFor(async () => expect(fieldText(await plainHot.get(key, 'a'))).toBe('1'))
    const hot = await plainHot.get(key, 'a')
    const durable = await plainCold.get(key, 'a')
    expect(hot.live && durable.live && hot.ttl <= durable.ttl).toBe(true)
  })

  it('costs one round trip per store on a miss, and no write', async () => {
    layers = memoryLayers()
    const key = newKey()
    await layers.layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    layers.hot.reset()
    layers.cold.reset()
    expect(await layers.layered.get(key, 'missing')).toMatchObject({ live: true, value: undefined })
    expect(await layers.layered.get(newKey(), 'a')).toEqual({ live: false })
    await sleep(10)
    expect(layers.hot.calls).toMatchObject({ get: 2, write: 0 })
    expect(layers.cold.calls).toMatchObject({ get: 2, write: 0 })
  })

  it('remembers a miss for missTtl, never past a write made here', async () => {
    layers = memoryLayers({ missTtl: 300 })
    const { layered, cold } = layers
    const key = newKey()
    await layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    cold.reset()
    for (let i = 0; i < 5; i++) expect(await layered.get(key, 'flag')).toMatchObject({ live: true, value: undefined })
    expect(cold.calls.get).toBe(1)
    await layered.write(key, 'flag', bytes('on'), writeOptions(DAY))
    expect(fieldText(await layered.get(key, 'flag'))).toBe('on')
    await layered.remove(key, 'flag')
    expect(await layered.get(key, 'flag')).toMatchObject({ value: undefined })
    const unknown = newKey()
    for (let i = 0; i < 3; i++) expect(await layered.get(unknown, 'a')).toEqual({ live: false })
    expect(cold.calls.get).toBe(3)
    await sleep(350)
    await layered.get(unknown, 'a')
    expect(cold.calls.get).toBe(4)
  })

  it('a miss remembered here can hide another process’s write for at most missTtl', async () => {
    layers = memoryLayers({ missTtl: 300 })
    const other = new LayeredStore({ hot: layers.plainHot, cold: layers.plainCold })
    const key = newKey()
    await layers.layered.write(key, 'a', bytes('1'), writeOptions(DAY, 'create'))
    expect(await layers.layered.get(key, 'b')).toMatchObject({ value: undefined })
    await other.write(key, 'b', bytes('2'), writeOptions(DAY))
    expect(await layers.layered.get(key, 'b')).toMatchObject({ value: undefined })
    await sleep(350)
    expect(fieldText(await layers.layered.get(key, 'b'))).toBe('2')
    await other.close()
  })

  it('with missTtl 0 every miss asks the stores', async () => {
    layers = memoryLayers({ missTtl: 0 })
    const key = newKey()
    for (let i = 0; i < 3; i++) await layers.layered.get(key, 'a')
    expect(layers.cold.calls.get).toBe(3)
  })

  it('reports hot’s ttl on a hot hit, and refreshes cold when a sliding refresh is due', async () => {
    layers = memoryLayers()
    const { layered, cold, plainHot, plainCold } = layers
    const key = newKey()
    await layered.write(key, 'a', bytes('1'), writeOptions(100, 'create'))
    cold.reset()
    const touch = { ttl: 100, threshold: 10 }
    expect(await layered.get(key, 'a', { touch })).toMatchObject({ live: true, touched: false })
    expect(cold.calls.get).toBe(0)
    await layered.expire(key, 50)
    const refreshed = await layered.get(key, 'a', { touch })
    expect(refreshed).toMatchObject({ live: true, touched: true })
    expect(refreshed.live && refreshed.ttl).toBeGreaterThan(95_000)
    expect(cold.calls.get).toBe(1)
    const durable = await plainCold.get(key, 'a')
    expect(durable.live && durable.ttl).toBeGreaterThan(95_000)
    // The hot copy follows cold's new lifetime.
    await vi.waitFor(async () => {
      const hot = await plainHot.get(key, 'a')
      expect(hot.live && hot.ttl).toBeGreaterThan(90_000)
    })
  })
})
