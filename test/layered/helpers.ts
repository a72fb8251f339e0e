import { expect, vi } from 'vitest'
import type { FieldRead, SessionStore, WriteOptions } from '../../src/core/store.js'
import { LayeredStore, type LayeredStoreOptions } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { type CountingStore, countingStore } from '../../src/testing/counting-store.js'
import { bytes, newKey, sleep, text } from '../../src/testing/values.js'

export { bytes, newKey, sleep, text } from '../../src/testing/values.js'

export const DAY = 86_400
/** A read field's value as text; `undefined` when missing or the session is not live. */
export const fieldText = (read: FieldRead): string | undefined => (read.live ? text(read.value) : undefined)

/**
 * The seed README's layered example, on any pair of tiers: a field valid 30 days in cold and 1 s in
 * hot is served from hot, then, once the hot copy expired, re-read from cold (reporting cold's
 * lifetime) and re-warmed, so the next read is hot again.
 *
 * @param layered - the layered store under test
 * @param hot - the hot tier as used alone, to look past the layered store
 * @param cold - the cold tier, counted
 * @param ttlSlack - seconds the reported lifetime may fall short of 30 days (clock and round trips)
 * @returns the key of the session it wrote
 */
export async function expectSeedExample(
  layered: LayeredStore,
  hot: SessionStore,
  cold: CountingStore,
  ttlSlack: number,
): Promise<string> {
  const key = newKey()
  const written = await layered.write(key, 'user', bytes('ada'), writeOptions(30 * DAY, 'create', { hotTtl: 1 }))
  expect(written).toMatchObject({ status: 'written' })
  cold.reset()
  expect(fieldText(await layered.get(key, 'user'))).toBe('ada')
  expect(cold.calls.get).toBe(0)

  await sleep(1_200)
  expect(await hot.get(key, 'user')).toMatchObject({ live: true, value: undefined })
  const fromCold = await layered.get(key, 'user')
  expect(fieldText(fromCold)).toBe('ada')
  expect(cold.calls.get).toBe(1)
  // Cold was consulted, so cold's clock reports the lifetime: about 30 days.
  expect(fromCold.live && fromCold.ttl).toBeGreaterThan((30 * DAY - ttlSlack) * 1000)
  await vi.waitFor(async () => expect(fieldText(await hot.get(key, 'user'))).toBe('ada'))
  expect(fieldText(await layered.get(key, 'user'))).toBe('ada')
  expect(cold.calls.get).toBe(1)
  return key
}

/** Write options as the session layer builds them. */
export function writeOptions(
  fieldTtl: number,
  session: 'create' | 'existing' = 'existing',
  extra?: Record<string, unknown>,
): WriteOptions {
  return { mode: 'update', session, fieldTtl, sessionTtl: fieldTtl, ...(extra === undefined ? {} : { extra }) }
}

/** A layered store over two counted MemoryStores, with every hot failure collected. */
export interface MemoryLayers {
  layered: LayeredStore
  hot: CountingStore
  cold: CountingStore
  /** The tiers without counting: what the same store used alone reads. */
  plainHot: MemoryStore
  plainCold: MemoryStore
  errors: { operation: string; code: string }[]
  close(): Promise<void>
}

/**
 * @param options - layered options besides the tiers
 * @returns Memory-over-Memory with counters and failure injection on both tiers
 */
export function memoryLayers(options: Partial<Omit<LayeredStoreOptions, 'hot' | 'cold'>> = {}): MemoryLayers {
  const plainHot = new MemoryStore()
  const plainCold = new MemoryStore()
  const hot = countingStore(plainHot)
  const cold = countingStore(plainCold)
  const errors: MemoryLayers['errors'] = []
  const layered = new LayeredStore({
    hot,
    cold,
    onError: (error, context) => errors.push({ operation: context.operation, code: error.code }),
    repairInterval: 50,
    ...options,
  })
  return {
    layered,
    hot,
    cold,
    plainHot,
    plainCold,
    errors,
    close: async () => {
      await layered.close()
      await Promise.all([plainHot.close(), plainCold.close()])
    },
  }
}

/**
 * A store whose every call waits `delay()` ms first (before and after the inner call), so races
 * between concurrent operations interleave at the tiers as they would over a network.
 */
export function delayed(inner: SessionStore, delay: () => number): SessionStore {
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await sleep(delay())
      const result = await call.apply(inner, args)
      await sleep(delay())
      return result
    }
  const store: SessionStore = {
    name: inner.name,
    get: wrap(inner.get),
    getAll: wrap(inner.getAll),
    write: wrap(inner.write),
    remove: wrap(inner.remove),
    delete: wrap(inner.delete),
    expire: wrap(inner.expire),
    rename: wrap(inner.rename),
  }
  // The optional capabilities and limits, when the inner store has them (a cold tier needs them).
  if (inner.limits !== undefined) Object.assign(store, { limits: inner.limits })
  if (inner.increment !== undefined) store.increment = wrap(inner.increment)
  if (inner.take !== undefined) store.take = wrap(inner.take)
  if (inner.bind !== undefined) store.bind = wrap(inner.bind)
  if (inner.subjectOf !== undefined) store.subjectOf = wrap(inner.subjectOf)
  if (inner.listSubject !== undefined) store.listSubject = wrap(inner.listSubject)
  if (inner.revokeSubject !== undefined) store.revokeSubject = wrap(inner.revokeSubject)
  return store
}

/** A store whose calls never answer while `hung` is set (a paused or black-holed backend). */
export function hanging(inner: SessionStore): SessionStore & { hung: boolean } {
  const store = {
    hung: false,
    name: inner.name,
  } as SessionStore & { hung: boolean }
  const methods = ['get', 'getAll', 'write', 'remove', 'delete', 'expire', 'rename', 'increment', 'take'] as const
  for (const name of [...methods, 'bind', 'subjectOf', 'listSubject', 'revokeSubject'] as const) {
    const method = inner[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (method === undefined) continue
    ;(store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
      store.hung ? new Promise(() => {}) : method.apply(inner, args)
  }
  return store
}
