import { afterAll, describe, expect, it } from 'vitest'
import type { FieldRead, SessionStore, StoreCapability, StoreLimit, WriteOptions } from '../core/store.js'
import { describeFieldLimit } from './field-limit.js'
import { describeFieldOperations } from './field-operations.js'
import { describeHardeningRules, type HardeningOptions } from './store-hardening.js'
import { describeSubjects } from './subjects.js'
import { bytes, newKey, sleep, text } from './values.js'

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions extends HardeningOptions {
  /** Shown in the test names, e.g. `'RedisStore (ioredis cluster)'`. */
  name: string
  /** A ready store; called once for the suite. */
  create: () => SessionStore | Promise<SessionStore>
  /** Release it (close clients the test made). Defaults to `store.close()`. */
  destroy?: (store: SessionStore) => void | Promise<void>
  /** Skip the whole suite, with the reason printed in the report (e.g. a missing service). */
  skip?: string | undefined
  /**
   * Optional parts of the contract this store does not implement (capabilities, and limits such as
   * `maxFields`), each with the reason shown in the report. A store lacking one not listed here fails
   * its tests.
   */
  skipCapabilities?: Partial<Record<StoreCapability | StoreLimit, string>>
  /**
   * The store's own cases, declared with `it` inside the suite so they share its store, its set-up
   * and its teardown (and are skipped with it). They run concurrently with the contract's cases on
   * the same store: use fresh keys (`createSessionId()` through `sessionKeyOf`) and assert nothing
   * about the store as a whole.
   * @default none
   */
  extraTests?: (context: StoreSuiteContext) => void
  /**
   * For the `subjects` capability: how many entries the store's index of `subject` holds, live or
   * not yet pruned, so the suite can check that entries of dead sessions are pruned.
   * @default none (the bounded-index case then checks only what `listSubject` returns)
   */
  subjectIndexSize?: (store: SessionStore, subject: string) => number | Promise<number>
}

/** What {@link StoreConformanceOptions.extraTests} receives. */
export interface StoreSuiteContext {
  /** @returns the suite's store, once `create` has made it */
  store: () => Promise<SessionStore>
}

const HOUR = 3600
const create = (fieldTtl = HOUR, sessionTtl = HOUR, extra: Partial<WriteOptions> = {}): WriteOptions => ({
  mode: 'update',
  session: 'create',
  fieldTtl,
  sessionTtl,
  ...extra,
})
const existing = (fieldTtl = HOUR, sessionTtl = fieldTtl, extra: Partial<WriteOptions> = {}): WriteOptions => ({
  mode: 'update',
  session: 'existing',
  fieldTtl,
  sessionTtl,
  ...extra,
})
const fieldText = (read: FieldRead): string | undefined => (read.live ? text(read.value) : undefined)

/**
 * The store contract as one suite: run it against every `SessionStore` implementation. Each test
 * uses fresh random keys, so the suite can share a backend with other data.
 *
 * @param options - the store factory, its name, and the store's own cases
 *
 * @example
 * ```ts
 * import { describeStoreConformance } from 'ruts/testing'
 * describeStoreConformance({
 *   name: 'MyStore',
 *   create: () => new MyStore(),
 *   extraTests: ({ store }) => {
 *     it('reports its name', async () => expect((await store()).name).toBe('my-store'))
 *   },
 * })
 * ```
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe.concurrent
  suite(`store conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let store: SessionStore
    const ready = (async () => {
      if (options.skip) return
      store = await options.create()
    })()
    const setup = async (): Promise<SessionStore> => {
      await ready
      return store
    }
    // Concurrent tests share one store; it is released once, after the last of them.
    afterAll(async () => {
      await ready
      if (store === undefined) return
      if (options.destroy) await options.destroy(store)
      else await store.close?.()
    })
    options.extraTests?.({ store: setup })

    it('creates a session with a field and reads it back with the session lifetime', async () => {
      const s = await setup()
      const key = newKey()
      const created = await s.write(key, 'user', bytes('ada'), create(HOUR, HOUR))
      expect(created).toMatchObject({ status: 'written', live: true, touched: true })
      const read = await s.get(key, 'user')
      expect(fieldText(read)).toBe('ada')
      expect(read.live && read.ttl).toBeGreaterThan((HOUR - 5) * 1000)
      expect(read.live && read.ttl).toBeLessThanOrEqual(HOUR * 1000)
      expect(await s.get(key, 'other')).toMatchObject({ live: true, value: undefined })
    })

    it('reports an unknown key as no session, for every operation, and writes nothing', async () => {
      const s = await setup()
      const key = newKey()
      expect(await s.get(key, 'a')).toEqual({ live: false })
      expect(await s.getAll(key)).toEqual({ live: false })
      expect(await s.remove(key, 'a')).toEqual({ live: false })
      expect(await s.expire(key, 60)).toEqual({ live: false })
      expect(await s.delete(key)).toBe(false)
      expect(await s.rename(key, newKey())).toEqual({ status: 'missing' })
      expect(await s.write(key, 'a', bytes('x'), existing())).toEqual({ status: 'missing' })
      expect(await s.get(key, 'a')).toEqual({ live: false })
    })

    it('never creates over a live session (collision), and a second create loses', async () => {
      const s = await setup()
      const key = newKey()
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, index) => s.write(key, 'owner', bytes(`w${index}`), create())),
      )
      expect(results.filter((result) => result.status === 'written')).toHaveLength(1)
      expect(results.filter((result) => result.status === 'collision')).toHaveLength(4)
      const winner = results.findIndex((result) => result.status === 'written')
      expect(fieldText(await s.get(key, 'owner'))).toBe(`w${winner}`)
    })

    it('insert writes only when the field is absent; update always writes', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create())
      expect(await s.write(key, 'a', bytes('2'), { ...existing(), mode: 'insert' })).toMatchObject({ status: 'exists' })
      expect(fieldText(await s.get(key, 'a'))).toBe('1')
      expect(await s.write(key, 'b', bytes('3'), { ...existing(), mode: 'insert' })).toMatchObject({
        status: 'written',
      })
      expect(await s.write(key, 'a', bytes('4'), existing())).toMatchObject({ status: 'written' })
      expect(fieldText(await s.get(key, 'a'))).toBe('4')
    })

    it('returns every live field from getAll, byte-exact', async () => {
      const s = await setup()
      const key = newKey()
      const binary = new Uint8Array([0, 255, 1, 0, 128, 10, 13])
      const big = new Uint8Array(100_000).map((_, index) => index % 251)
      await s.write(key, 'binary', binary, create())
      await s.write(key, 'big', big, existing())
      await s.write(key, 'empty', new Uint8Array(0), existing())
      const all = await s.getAll(key)
      if (!all.live) throw new Error('expected a live session')
      expect([...all.fields.keys()].sort()).toEqual(['big', 'binary', 'empty'])
      expect([...(all.fields.get('binary') ?? [])]).toEqual([...binary])
      expect(Buffer.from(all.fields.get('big') ?? []).equals(Buffer.from(big))).toBe(true)
      expect(all.fields.get('empty')?.length).toBe(0)
    })

    it('keeps hostile and unusual field names apart from each other and from store metadata', async () => {
      const s = await setup()
      const key = newKey()
      const names = [
        '__proto__',
        'constructor',
        'toString',
        'v:x',
        't:x',
        'x',
        ':',
        '{}',
        'ttl',
        'exp',
        'meta',
        'deadline',
        '\u00e9\u{1F600}',
        'a'.repeat(1024),
        // The longest name in bytes, in 3-byte characters: an index entry Postgres can hold.
        `${'\u5b57'.repeat(341)}a`,
        `${'\u{1F600}'.repeat(256)}`,
        ' ',
        '%s',
        "'; DROP TABLE x; --",
      ]
      await s.write(key, 'seed', bytes('seed'), create())
      for (const name of names) await s.write(key, name, bytes(`value of ${name}`), existing(HOUR))
      for (const name of names) expect(fieldText(await s.get(key, name))).toBe(`value of ${name}`)
      const all = await s.getAll(key)
      if (!all.live) throw new Error('expected a live session')
      expect(all.fields.size).toBe(names.length + 1)
      expect(Object.getPrototypeOf(all.fields)).toBe(Map.prototype)
      expect(await s.remove(key, '__proto__')).toMatchObject({ live: true, removed: true })
      expect(fieldText(await s.get(key, 'constructor'))).toBe('value of constructor')
    })

    it('expires a field on its own TTL while the session and other fields stay', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'keep', bytes('k'), create(HOUR, HOUR))
      await s.write(key, 'flash', bytes('f'), existing(1, 1))
      const fresh = await s.get(key, 'flash')
      expect(fieldText(fresh)).toBe('f')
      // A store that reports the field's own remaining lifetime reports it by the field's TTL.
      const fieldTtl = fresh.live ? fresh.fieldTtl : undefined
      if (fieldTtl !== undefined) expect(fieldTtl).toBeGreaterThan(0)
      if (fieldTtl !== undefined) expect(fieldTtl).toBeLessThanOrEqual(1_000)
      await sleep(1_300)
      expect(await s.get(key, 'flash')).toMatchObject({ live: true, value: undefined })
      const all = await s.getAll(key)
      expect(all.live && [...all.fields.keys()]).toEqual(['keep'])
      const read = await s.get(key, 'keep')
      expect(fieldText(read)).toBe('k')
      expect(read.live && read.ttl).toBeGreaterThan((HOUR - 10) * 1000)
      // An expired field counts as absent: insert succeeds, remove reports it missing.
      expect(await s.remove(key, 'flash')).toMatchObject({ live: true, removed: false })
      expect(await s.write(key, 'flash', bytes('again'), { ...existing(HOUR), mode: 'insert' })).toMatchObject({
        status: 'written',
      })
    })

    it('expires the whole session: it is absent for every operation and creatable again', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create(1, 1))
      await sleep(1_300)
      expect(await s.get(key, 'a')).toEqual({ live: false })
      expect(await s.getAll(key)).toEqual({ live: false })
      expect(await s.write(key, 'a', bytes('2'), existing())).toEqual({ status: 'missing' })
      expect(await s.rename(key, newKey())).toEqual({ status: 'missing' })
      expect(await s.write(key, 'b', bytes('3'), create())).toMatchObject({ status: 'written' })
      expect(fieldText(await s.get(key, 'a'))).toBeUndefined()
      expect(fieldText(await s.get(key, 'b'))).toBe('3')
    })

    it('extends the session lifetime on writes, never shortens it, and says when it moved', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create(60, 60))
      const shorter = await s.write(key, 'b', bytes('2'), existing(10, 10))
      expect(shorter).toMatchObject({ status: 'written', touched: false })
      expect(shorter.status === 'written' && shorter.ttl).toBeGreaterThan(50_000)
      const longer = await s.write(key, 'c', bytes('3'), existing(HOUR, HOUR))
      expect(longer).toMatchObject({ status: 'written', touched: true })
      expect(longer.status === 'written' && longer.ttl).toBeGreaterThan((HOUR - 5) * 1000)
    })

    it('caps every extension at the absolute deadline set at creation', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create(HOUR, 30, { maxLifetime: 100 }))
      const extended = await s.write(key, 'b', bytes('2'), existing(HOUR, HOUR))
      expect(extended.status === 'written' && extended.ttl).toBeLessThanOrEqual(100_000)
      expect(extended.status === 'written' && extended.ttl).toBeGreaterThan(90_000)
      const expired = await s.expire(key, HOUR)
      expect(expired.live && expired.ttl).toBeLessThanOrEqual(100_000)
      const capped = newKey()
      const first = await s.write(capped, 'a', bytes('1'), create(HOUR, HOUR, { maxLifetime: 50 }))
      expect(first.status === 'written' && first.ttl).toBeLessThanOrEqual(50_000)
    })

    it('removes one field; a missing field is a no-op that never ends the session', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create())
      await s.write(key, 'b', bytes('2'), existing())
      expect(await s.remove(key, 'nope')).toMatchObject({ live: true, removed: false })
      expect(await s.remove(key, 'a')).toMatchObject({ live: true, removed: true })
      expect(await s.remove(key, 'a')).toMatchObject({ live: true, removed: false })
      expect(await s.remove(key, 'b')).toMatchObject({ live: true, removed: true })
      // The last field gone: the session itself lives on until its lifetime ends.
      expect(await s.getAll(key)).toMatchObject({ live: true })
      expect(await s.write(key, 'c', bytes('3'), existing())).toMatchObject({ status: 'written' })
    })

    it('deletes a whole session, and reports whether it was live', async () => {
      const s = await setup()
      const key = newKey()
      const other = newKey()
      await s.write(key, 'a', bytes('1'), create())
      await s.write(other, 'a', bytes('other'), create())
      expect(await s.delete(key)).toBe(true)
      expect(await s.delete(key)).toBe(false)
      expect(await s.get(key, 'a')).toEqual({ live: false })
      expect(await s.write(key, 'a', bytes('x'), existing())).toEqual({ status: 'missing' })
      expect(fieldText(await s.get(other, 'a'))).toBe('other')
    })

    it('sets the remaining lifetime with expire (shorter or longer); 0 deletes', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create(HOUR, HOUR))
      const shorter = await s.expire(key, 30)
      expect(shorter).toMatchObject({ live: true })
      expect(shorter.live && shorter.ttl).toBeLessThanOrEqual(30_000)
      expect(shorter.live && shorter.ttl).toBeGreaterThan(25_000)
      const longer = await s.expire(key, 2 * HOUR)
      expect(longer.live && longer.ttl).toBeGreaterThan((2 * HOUR - 5) * 1000)
      await s.expire(key, 1)
      await sleep(1_300)
      expect(await s.get(key, 'a')).toEqual({ live: false })
      const gone = newKey()
      await s.write(gone, 'a', bytes('1'), create())
      expect(await s.expire(gone, 0)).toEqual({ live: false })
      expect(await s.get(gone, 'a')).toEqual({ live: false })
    })

    it('renames a session with all fields and TTLs; the old key is dead', async () => {
      const s = await setup()
      const from = newKey()
      const to = newKey()
      await s.write(from, 'a', bytes('1'), create(HOUR, 600))
      await s.write(from, 'flash', bytes('f'), existing(1, 1))
      const renamed = await s.rename(from, to)
      expect(renamed).toMatchObject({ status: 'renamed', live: true })
      expect(renamed.status === 'renamed' && renamed.ttl).toBeLessThanOrEqual(600_000)
      expect(renamed.status === 'renamed' && renamed.ttl).toBeGreaterThan(590_000)
      expect(await s.get(from, 'a')).toEqual({ live: false })
      expect(fieldText(await s.get(to, 'a'))).toBe('1')
      await sleep(1_300)
      expect(await s.get(to, 'flash')).toMatchObject({ live: true, value: undefined })
      expect(fieldText(await s.get(to, 'a'))).toBe('1')
    })

    it('refuses to rename onto a live session, and renames onto an expired one', async () => {
      const s = await setup()
      const from = newKey()
      const taken = newKey()
      await s.write(from, 'a', bytes('mine'), create())
      await s.write(taken, 'a', bytes('theirs'), create())
      expect(await s.rename(from, taken)).toEqual({ status: 'collision' })
      expect(fieldText(await s.get(taken, 'a'))).toBe('theirs')
      expect(fieldText(await s.get(from, 'a'))).toBe('mine')
      const stale = newKey()
      await s.write(stale, 'old', bytes('x'), create(1, 1))
      await sleep(1_300)
      expect(await s.rename(from, stale)).toMatchObject({ status: 'renamed' })
      expect(fieldText(await s.get(stale, 'a'))).toBe('mine')
      expect(fieldText(await s.get(stale, 'old'))).toBeUndefined()
    })

    it('moves and writes in one step with renameFrom, also when insert finds the field present', async () => {
      const s = await setup()
      const from = newKey()
      const to = newKey()
      await s.write(from, 'user', bytes('guest'), create())
      const moved = await s.write(to, 'user', bytes('ada'), { ...existing(), mode: 'insert', renameFrom: from })
      expect(moved).toMatchObject({ status: 'exists', live: true })
      expect(await s.get(from, 'user')).toEqual({ live: false })
      expect(fieldText(await s.get(to, 'user'))).toBe('guest')
      const next = newKey()
      expect(await s.write(next, 'role', bytes('admin'), existing(HOUR, HOUR, { renameFrom: to }))).toMatchObject({
        status: 'written',
      })
      expect(fieldText(await s.get(next, 'user'))).toBe('guest')
      expect(fieldText(await s.get(next, 'role'))).toBe('admin')
      expect(await s.write(newKey(), 'x', bytes('1'), existing(HOUR, HOUR, { renameFrom: from }))).toEqual({
        status: 'missing',
      })
      const taken = newKey()
      await s.write(taken, 'a', bytes('theirs'), create())
      expect(await s.write(taken, 'x', bytes('1'), existing(HOUR, HOUR, { renameFrom: next }))).toEqual({
        status: 'collision',
      })
      expect(fieldText(await s.get(next, 'role'))).toBe('admin')
      expect(fieldText(await s.get(taken, 'x'))).toBeUndefined()
    })

    it('refreshes a sliding lifetime on read only below the threshold', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'a', bytes('1'), create(HOUR, 100))
      const fresh = await s.get(key, 'a', { touch: { ttl: 100, threshold: 10 } })
      expect(fresh).toMatchObject({ live: true, touched: false })
      await s.expire(key, 50)
      const stale = await s.get(key, 'a', { touch: { ttl: 100, threshold: 10 } })
      expect(stale).toMatchObject({ live: true, touched: true })
      expect(stale.live && stale.ttl).toBeGreaterThan(95_000)
      await s.expire(key, 50)
      const all = await s.getAll(key, { touch: { ttl: 100, threshold: 10 } })
      expect(all).toMatchObject({ live: true, touched: true })
      expect(all.live && all.ttl).toBeGreaterThan(95_000)
    })

    it('keeps all of 20 concurrent writes to different fields of one session', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'seed', bytes('0'), create())
      const fields = Array.from({ length: 20 }, (_, index) => `f${index}`)
      const results = await Promise.all(fields.map((field) => s.write(key, field, bytes(field), existing())))
      expect(results.every((result) => result.status === 'written')).toBe(true)
      const all = await s.getAll(key)
      if (!all.live) throw new Error('expected a live session')
      for (const field of fields) expect(text(all.fields.get(field))).toBe(field)
    })

    it('lets exactly one of several concurrent inserts of one field win', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'seed', bytes('0'), create())
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          s.write(key, 'once', bytes(`${index}`), { ...existing(), mode: 'insert' }),
        ),
      )
      expect(results.filter((result) => result.status === 'written')).toHaveLength(1)
      const winner = results.findIndex((result) => result.status === 'written')
      expect(fieldText(await s.get(key, 'once'))).toBe(`${winner}`)
    })

    describeFieldOperations(setup, options.skipCapabilities)
    describeFieldLimit(setup, options.skipCapabilities)
    describeSubjects(setup, options)

    it('never resurrects a session deleted while writes race it', async () => {
      const s = await setup()
      const key = newKey()
      await s.write(key, 'seed', bytes('0'), create())
      const racing = Array.from({ length: 10 }, (_, index) => s.write(key, `f${index}`, bytes('x'), existing()))
      const deleted = s.delete(key)
      await Promise.all([...racing, deleted])
      expect(await s.get(key, 'seed')).toEqual({ live: false })
      expect(await s.getAll(key)).toEqual({ live: false })
      expect(await s.write(key, 'late', bytes('x'), existing())).toEqual({ status: 'missing' })
    })

    describeHardeningRules(setup, options)
  })
}
