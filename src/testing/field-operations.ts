import { expect, it, type TestContext } from 'vitest'
import { jsonCodec, msgpackCodec } from '../core/codec.js'
import type { IntegerFormat } from '../core/integers.js'
import {
  type FieldRead,
  type IncrementOptions,
  type PlacementOptions,
  type SessionStore,
  type StoreCapability,
  storeSupports,
} from '../core/store.js'
import { newKey, sleep } from './values.js'

/** A store with the `fieldOperations` capability. */
type FieldOperationStore = SessionStore & Required<Pick<SessionStore, 'increment' | 'take'>>

const HOUR = 3600
const codecs = { json: jsonCodec(), msgpack: msgpackCodec() } as const
const formats = ['json', 'msgpack'] as const satisfies readonly IntegerFormat[]
const existing: PlacementOptions = { session: 'existing', fieldTtl: HOUR, sessionTtl: HOUR }
const creating: PlacementOptions = { session: 'create', fieldTtl: HOUR, sessionTtl: HOUR }
const by = (format: IntegerFormat, amount: number, placement = existing): IncrementOptions => ({
  ...placement,
  by: amount,
  format,
})
const write = (s: SessionStore, key: string, field: string, value: unknown, format: IntegerFormat, create = false) =>
  s.write(key, field, codecs[format].encode(value), {
    ...(create ? creating : existing),
    mode: 'update',
  })
const decoded = (read: FieldRead, format: IntegerFormat): unknown =>
  read.live && read.value !== undefined ? codecs[format].decode(read.value) : undefined

/**
 * The `fieldOperations` capability (`increment`, `take`) of the store contract, registered inside
 * {@link describeStoreConformance}'s suite. A store without the capability fails these tests unless
 * the caller states why it skips them.
 *
 * @param setup - resolves the suite's store
 * @param skipReasons - capabilities the caller declared unsupported, with the reason
 */
export function describeFieldOperations(
  setup: () => Promise<SessionStore>,
  skipReasons: Partial<Record<StoreCapability, string>> = {},
): void {
  /** The store, when it has the capability; the test is skipped with the stated reason otherwise. */
  const capable = async (context: TestContext): Promise<FieldOperationStore> => {
    const s = await setup()
    const reason = skipReasons.fieldOperations
    if (reason !== undefined) context.skip(reason)
    if (!storeSupports(s, 'fieldOperations')) {
      throw new Error(`${s.name} lacks increment/take: implement them or pass skipCapabilities.fieldOperations`)
    }
    return s as FieldOperationStore
  }

  for (const format of formats) {
    it(`increments a ${format} integer field atomically, creating it and the session as needed`, async (context) => {
      const s = await capable(context)
      const key = newKey()
      expect(await s.increment(key, 'n', by(format, 1))).toEqual({ status: 'missing' })
      expect(await s.increment(key, 'n', by(format, 5, creating))).toMatchObject({
        status: 'written',
        value: 5,
        live: true,
        touched: true,
      })
      expect(await s.increment(key, 'n', by(format, 5, creating))).toEqual({ status: 'collision' })
      expect(await s.increment(key, 'n', by(format, -7))).toMatchObject({ status: 'written', value: -2 })
      expect(decoded(await s.get(key, 'n'), format)).toBe(-2)
      // A value the codec wrote is counted on, and what the store writes back decodes as a number,
      // across every width the format has.
      for (const [start, step] of [
        [126, 1],
        [255, 1],
        [65_535, 1],
        [2 ** 32 - 1, 1],
        [-32, -1],
        [-128, -1],
        [-32_768, -1],
        [-(2 ** 31), -1],
        [2 ** 53 - 2, 1],
      ] as const) {
        await write(s, key, 'wide', start, format)
        expect(await s.increment(key, 'wide', by(format, step))).toMatchObject({ value: start + step })
        const read = await s.get(key, 'wide')
        expect(decoded(read, format)).toBe(start + step)
        expect(read.live && [...(read.value ?? [])]).toEqual([...codecs[format].encode(start + step)])
      }
    })

    it(`refuses to increment a ${format} field that holds no safe integer, changing nothing`, async (context) => {
      const s = await capable(context)
      const key = newKey()
      await write(s, key, 'seed', 0, format, true)
      for (const value of ['3', 1.5, { n: 1 }, [1], true, null, 2 ** 53]) {
        await write(s, key, 'odd', value, format)
        expect(await s.increment(key, 'odd', by(format, 1))).toMatchObject({ status: 'invalid', live: true })
        expect(decoded(await s.get(key, 'odd'), format)).toEqual(value)
      }
      await write(s, key, 'edge', Number.MAX_SAFE_INTEGER, format)
      expect(await s.increment(key, 'edge', by(format, 1))).toMatchObject({ status: 'invalid' })
      await write(s, key, 'edge', Number.MIN_SAFE_INTEGER, format)
      expect(await s.increment(key, 'edge', by(format, -1))).toMatchObject({ status: 'invalid' })
      expect(decoded(await s.get(key, 'edge'), format)).toBe(Number.MIN_SAFE_INTEGER)
    })
  }

  it('keeps all of 50 concurrent increments of one field', async (context) => {
    const s = await capable(context)
    const key = newKey()
    await s.increment(key, 'n', by('msgpack', 0, creating))
    const results = await Promise.all(Array.from({ length: 50 }, () => s.increment(key, 'n', by('msgpack', 1))))
    const values = results.map((result) => (result.status === 'written' ? result.value : -1))
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1))
    expect(decoded(await s.get(key, 'n'), 'msgpack')).toBe(50)
  })

  it('sets the field TTL only when increment creates the field (a fixed window)', async (context) => {
    const s = await capable(context)
    const key = newKey()
    await s.increment(key, 'window', { ...by('json', 1, creating), fieldTtl: 1 })
    expect(await s.increment(key, 'window', by('json', 1))).toMatchObject({ value: 2 })
    await sleep(1_300)
    // The window ended despite the later increment with a one-hour TTL: it starts over.
    expect(await s.get(key, 'window')).toMatchObject({ live: true, value: undefined })
    expect(await s.increment(key, 'window', { ...by('json', 1), fieldTtl: 1 })).toMatchObject({ value: 1 })
  })

  it('moves the session with renameFrom in the same step as an increment', async (context) => {
    const s = await capable(context)
    const from = newKey()
    const to = newKey()
    await write(s, from, 'n', 41, 'msgpack', true)
    expect(await s.increment(to, 'n', { ...by('msgpack', 1), renameFrom: from })).toMatchObject({ value: 42 })
    expect(await s.get(from, 'n')).toEqual({ live: false })
    expect(decoded(await s.get(to, 'n'), 'msgpack')).toBe(42)
    const taken = newKey()
    await write(s, taken, 'x', 1, 'msgpack', true)
    expect(await s.increment(taken, 'n', { ...by('msgpack', 1), renameFrom: to })).toEqual({ status: 'collision' })
    expect(await s.increment(newKey(), 'n', { ...by('msgpack', 1), renameFrom: from })).toEqual({
      status: 'missing',
    })
  })

  it('takes a field: returns it once and deletes it, leaving the session and other fields', async (context) => {
    const s = await capable(context)
    const key = newKey()
    expect(await s.take(key, 'flash')).toEqual({ live: false })
    await write(s, key, 'flash', 'saved', 'json', true)
    await write(s, key, 'keep', 'k', 'json')
    expect(decoded(await s.take(key, 'flash'), 'json')).toBe('saved')
    expect(await s.take(key, 'flash')).toMatchObject({ live: true, value: undefined })
    expect(await s.get(key, 'flash')).toMatchObject({ live: true, value: undefined })
    expect(decoded(await s.get(key, 'keep'), 'json')).toBe('k')
    await s.write(key, 'brief', codecs.json.encode('gone'), { ...existing, fieldTtl: 1, mode: 'update' })
    await sleep(1_300)
    expect(await s.take(key, 'brief')).toMatchObject({ live: true, value: undefined })
  })

  it('gives a field to exactly one of 10 concurrent takes', async (context) => {
    const s = await capable(context)
    const key = newKey()
    await write(s, key, 'token', 'once', 'msgpack', true)
    const reads = await Promise.all(Array.from({ length: 10 }, () => s.take(key, 'token')))
    const winners = reads.filter((read) => read.live && read.value !== undefined)
    expect(winners).toHaveLength(1)
    expect(decoded(winners[0] as FieldRead, 'msgpack')).toBe('once')
  })
}
