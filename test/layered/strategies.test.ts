import { afterEach, describe, expect, it } from 'vitest'
import { SessionError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { bytes, DAY, type MemoryLayers, memoryLayers, newKey, sleep, text, writeOptions } from './helpers.js'

let layers: MemoryLayers
afterEach(() => layers?.close())

describe('LayeredStore write strategies', () => {
  it('write-through (default) puts an ordinary session in each tier', async () => {
    layers = memoryLayers()
    const key = newKey()
    expect(await layers.layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))).toMatchObject({
      status: 'written',
    })
    // Each store used alone reads exactly what the layer put there.
    const cold = await layers.plainCold.get(key, 'user')
    const hot = await layers.plainHot.get(key, 'user')
    expect(cold.live && text(cold.value)).toBe('ada')
    expect(hot.live && text(hot.value)).toBe('ada')
    // The hot session never outlives the cold one.
    expect(hot.live && cold.live && hot.ttl <= cold.ttl).toBe(true)
  })

  it('hot-only writes never reach cold, and create a session cold does not hold in hot only', async () => {
    layers = memoryLayers()
    const key = newKey()
    const created = await layers.layered.write(
      key,
      'cart',
      bytes('3'),
      writeOptions(60, 'create', { strategy: 'hot-only' }),
    )
    expect(created).toMatchObject({ status: 'written', live: true })
    await layers.layered.write(key, 'step', bytes('2'), writeOptions(60, 'existing', { strategy: 'hot-only' }))
    expect(layers.cold.calls.write).toBe(0)
    expect(await layers.plainCold.get(key, 'cart')).toEqual({ live: false })
    expect(text(((await layers.layered.get(key, 'cart')) as { value?: Uint8Array }).value)).toBe('3')
    // A field hot lacks falls through to cold, which has no session: the hot session still counts.
    expect(await layers.layered.get(key, 'other')).toMatchObject({ live: true, value: undefined })
    const all = await layers.layered.getAll(key)
    expect(all.live && [...all.fields.keys()].sort()).toEqual(['cart', 'step'])
    expect(layers.cold.calls.write).toBe(0)
  })

  it('maxFields: cold decides, and a write cold refuses as full leaves the hot copy unchanged', async () => {
    layers = memoryLayers()
    expect(layers.layered.limits).toEqual(['maxFields'])
    // Over a cold store that does not enforce it, neither does the layered store.
    const unlimited = Object.defineProperty(new MemoryStore(), 'limits', { value: undefined })
    const over = new LayeredStore({ hot: new MemoryStore(), cold: unlimited })
    expect(over.limits).toEqual([])
    await over.close()
    const key = newKey()
    const limited = (session: 'create' | 'existing' = 'existing') => ({ ...writeOptions(DAY, session), maxFields: 3 })
    await layers.layered.write(key, 'a', bytes('A'), limited('create'))
    await layers.layered.write(key, 'b', bytes('B'), limited())
    // A field only cold holds (its hot copy not warmed): hot has room, cold has not.
    await layers.plainCold.write(key, 'x', bytes('X'), writeOptions(DAY))
    expect(await layers.layered.write(key, 'c', bytes('C'), limited())).toMatchObject({ status: 'full', live: true })
    for (const tier of [layers.plainHot, layers.plainCold]) {
      expect(await tier.get(key, 'c')).toMatchObject({ live: true, value: undefined })
      const read = await tier.get(key, 'a')
      expect(read.live && text(read.value)).toBe('A')
    }
    // An update of a field cold holds goes through to both tiers.
    expect(await layers.layered.write(key, 'a', bytes('A2'), limited())).toMatchObject({ status: 'written' })
    const hot = await layers.plainHot.get(key, 'a')
    expect(hot.live && text(hot.value)).toBe('A2')
    expect(await layers.layered.increment(key, 'n', { ...limited(), by: 1, format: 'json' })).toMatchObject({
      status: 'full',
    })
  })

  it('maxFields on hot-only fields is counted by hot, the hot-only mark not included', async () => {
    layers = memoryLayers()
    const key = newKey()
    const hotOnly = (session: 'create' | 'existing' = 'existing') => ({
      ...writeOptions(60, session, { strategy: 'hot-only' }),
      maxFields: 2,
    })
    expect(await layers.layered.write(key, 'cart', bytes('3'), hotOnly('create'))).toMatchObject({ status: 'written' })
    expect(await layers.layered.write(key, 'step', bytes('2'), hotOnly())).toMatchObject({ status: 'written' })
    expect(await layers.layered.write(key, 'more', bytes('1'), hotOnly())).toMatchObject({ status: 'full' })
    expect(await layers.layered.write(key, 'step', bytes('4'), hotOnly())).toMatchObject({ status: 'written' })
    const all = await layers.layered.getAll(key)
    expect(all.live && [...all.fields.keys()].sort()).toEqual(['cart', 'step'])
    expect(layers.cold.calls.write).toBe(0)
  })

  it('take on a session only hot holds takes from hot, and keeps the session live', async () => {
    layers = memoryLayers()
    const key = newKey()
    await layers.layered.write(key, 'cart', bytes('3'), writeOptions(60, 'create', { strategy: 'hot-only' }))
    await layers.plainHot.write(key, 'flash', bytes('saved'), writeOptions(60, 'existing'))
    const taken = await layers.layered.take(key, 'flash')
    expect(taken).toMatchObject({ live: true })
    expect(taken.live && text(taken.value)).toBe('saved')
    expect(await layers.layered.take(key, 'flash')).toMatchObject({ live: true, value: undefined })
    // A field the session lacks: still live, as get and remove answer.
    expect(await layers.layered.take(key, 'other')).toMatchObject({ live: true, value: undefined })
    expect(text(((await layers.layered.get(key, 'cart')) as { value?: Uint8Array }).value)).toBe('3')
    // Hot failing: cold answers (no session), as for every read, and nothing is buried, so no repair
    // deletes the hot-only session afterwards.
    await layers.plainHot.write(key, 'flash', bytes('again'), writeOptions(60, 'existing'))
    layers.hot.failing = true
    expect(await layers.layered.take(key, 'flash')).toEqual({ live: false })
    layers.hot.failing = false
    await sleep(150) // past a repair round (memoryLayers repairs every 50 ms): nothing was buried
    expect(text(((await layers.plainHot.get(key, 'cart')) as { value?: Uint8Array }).value)).toBe('3')
    expect(text(((await layers.layered.take(key, 'flash')) as { value?: Uint8Array }).value)).toBe('again')
  })

  it('a regenerate of a hot-only session that cannot read its mark leaves the session alone', async () => {
    layers = memoryLayers()
    const from = newKey()
    const to = newKey()
    await layers.layered.write(from, 'cart', bytes('3'), writeOptions(60, 'create', { strategy: 'hot-only' }))
    // Hot answers the lease deletes but not the read of the hot-only mark (a stall at that moment).
    const inner = layers.hot.get.bind(layers.hot)
    layers.hot.get = (key, field, options) =>
      key === from ? Promise.reject(new Error('hot read lost')) : inner(key, field, options)
    // Cold's answer stands (it does not hold the session), and the hot copy is not deleted.
    expect(await layers.layered.rename(from, to)).toEqual({ status: 'missing' })
    layers.hot.get = inner
    await sleep(150) // past a repair round: nothing was buried
    expect(text(((await layers.plainHot.get(from, 'cart')) as { value?: Uint8Array }).value)).toBe('3')
    expect(await layers.layered.rename(from, to)).toMatchObject({ status: 'renamed' })
    expect(text(((await layers.layered.get(to, 'cart')) as { value?: Uint8Array }).value)).toBe('3')
  })

  it('a hot-only write to a session hot evicted gives the field a new hot copy (cold untouched)', async () => {
    layers = memoryLayers()
    const key = newKey()
    await layers.layered.write(key, 'user', bytes('ada'), writeOptions(DAY, 'create'))
    await layers.plainHot.delete(key)
    layers.cold.reset()
    const written = await layers.layered.write(
      key,
      'cart',
      bytes('1'),
      writeOptions(60, 'existing', { strategy: 'hot-only' }),
    )
    expect(written).toMatchObject({ status: 'written' })
    expect(layers.cold.calls.write).toBe(0)
    expect(text(((await layers.plainHot.get(key, 'cart')) as { value?: Uint8Array }).value)).toBe('1')
    expect(await layers.plainCold.get(key, 'cart')).toMatchObject({ live: true, value: undefined })
  })

  it('cold-only writes never reach hot, remove a stale hot copy, and are not warmed by reads', async () => {
    layers = memoryLayers()
    const key = newKey()
    await layers.layered.write(key, 'role', bytes('guest'), writeOptions(DAY, 'create'))
    expect((await layers.plainHot.get(key, 'role')).live).toBe(true)
    layers.hot.reset()
    await layers.layered.write(key, 'role', bytes('admin'), writeOptions(DAY, 'existing', { strategy: 'cold-only' }))
    expect(layers.hot.calls.write).toBe(0)
    expect(await layers.plainHot.get(key, 'role')).toMatchObject({ live: true, value: undefined })
    const read = await layers.layered.get(key, 'role')
    expect(read.live && text(read.value)).toBe('admin')
    await sleep(20)
    expect(layers.hot.calls.write).toBe(0)
    expect(await layers.plainHot.get(key, 'role')).toMatchObject({ value: undefined })
  })

  it('takes per-field defaults from the fields option', async () => {
    layers = memoryLayers({ fields: { audit: { strategy: 'cold-only' }, cart: { strategy: 'hot-only' } } })
    const key = newKey()
    await layers.layered.write(key, 'cart', bytes('1'), writeOptions(60, 'create'))
    expect(layers.cold.calls.write).toBe(0)
    await layers.layered.write(key, 'audit', bytes('x'), writeOptions(60, 'existing'))
    // The hot-only create and its mark (a session only hot holds); nothing for the cold-only field.
    expect(layers.hot.calls.write).toBe(2)
    layers.hot.reset()
    // A field configured cold-only is read from cold without asking hot.
    await layers.layered.get(key, 'audit')
    expect(layers.hot.calls.get).toBe(0)
  })

  it('rejects hotTtl above the field ttl, unknown options and bad values with ERR_SESSION_OPTION, writing nothing', async () => {
    layers = memoryLayers()
    const key = newKey()
    const bad = [
      { hotTtl: 61 },
      { hotTtl: 0 },
      { hotTtl: 1.5 },
      { strategy: 'write-back' },
      { strategy: 'cold-only', hotTtl: 10 },
      { ttlHot: 10 },
    ]
    for (const extra of bad) {
      await expect(layers.layered.write(key, 'a', bytes('1'), writeOptions(60, 'create', extra))).rejects.toMatchObject(
        {
          code: 'ERR_SESSION_OPTION',
        },
      )
    }
    expect(layers.hot.total() + layers.cold.total()).toBe(0)
    expect(await layers.layered.write(key, 'a', bytes('1'), writeOptions(60, 'create', { hotTtl: 60 }))).toMatchObject({
      status: 'written',
    })
  })

  it('accepts strategy and hotTtl through the session API, and rejects a hotTtl above ttl there too', async () => {
    layers = memoryLayers()
    const layer = new SessionLayer({ store: layers.layered })
    const session = layer.open(undefined)
    expect(await session.update('user', { id: 1 }, { ttl: 30 * DAY, hotTtl: 3600 })).toBe(true)
    expect(await session.update('cart', [1], { strategy: 'hot-only', ttl: 600 })).toBe(true)
    const error = await session.update('x', 1, { ttl: 60, hotTtl: 120 }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SessionError)
    expect((error as SessionError).code).toBe('ERR_SESSION_OPTION')
    expect(await session.get('user')).toEqual({ id: 1 })
  })

  it('rejects bad construction options with ERR_SESSION_CONFIG', () => {
    const hot = new MemoryStore()
    const cold = new MemoryStore()
    const bad = [
      { hotTtl: 0 },
      { missTtl: -1 },
      { hotTimeout: 0 },
      { maxTombstones: 0 },
      { fields: { a: { strategy: 'sideways' as 'hot-only' } } },
      { fields: { a: { hotTtl: 0.5 } } },
    ]
    for (const options of bad) {
      expect(() => new LayeredStore({ hot, cold, ...options })).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }),
      )
    }
    expect(() => new LayeredStore({ hot, cold: hot })).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
    void hot.close()
    void cold.close()
  })
})
