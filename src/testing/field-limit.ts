import { expect, it, type TestContext } from 'vitest'
import {
  type SessionStore,
  type StoreCapability,
  type StoreLimit,
  storeEnforces,
  storeSupports,
  type WriteOptions,
} from '../core/store.js'
import { bytes, newKey, sleep, text } from './values.js'

const HOUR = 3600
/** The limit of these cases: small, so a full session is cheap to build. */
const MAX_FIELDS = 3
const limited = (extra: Partial<WriteOptions> = {}): WriteOptions => ({
  mode: 'update',
  session: 'existing',
  fieldTtl: HOUR,
  sessionTtl: HOUR,
  maxFields: MAX_FIELDS,
  ...extra,
})

/** Every live field of the session as text, by name (sorted), or `undefined` when it is not live. */
async function fieldsOf(s: SessionStore, key: string): Promise<Record<string, string | undefined> | undefined> {
  const read = await s.getAll(key)
  if (!read.live) return undefined
  const names = [...read.fields.keys()].sort()
  return Object.fromEntries(names.map((name) => [name, text(read.fields.get(name))]))
}

/** A session holding `names`, each with its own value (`v:<name>`), created with the first. */
async function sessionWith(s: SessionStore, names: readonly string[], fieldTtl = HOUR): Promise<string> {
  const key = newKey()
  for (const [index, name] of names.entries()) {
    const session = index === 0 ? 'create' : 'existing'
    const ttl = index === 0 ? HOUR : fieldTtl
    const result = await s.write(key, name, bytes(`v:${name}`), limited({ session, fieldTtl: ttl }))
    expect(result.status).toBe('written')
  }
  return key
}

/**
 * The `maxFields` limit of the store contract (`limits: ['maxFields']`), registered inside
 * {@link describeStoreConformance}'s suite: a write or increment that would add a field to a session
 * holding `maxFields` live fields changes nothing and reports `full`. A store that does not list the
 * limit fails these tests unless the caller states why it skips them (`skipCapabilities.maxFields`).
 *
 * @param setup - resolves the suite's store
 * @param skipReasons - capabilities and limits the caller declared unsupported, with the reason
 */
export function describeFieldLimit(
  setup: () => Promise<SessionStore>,
  skipReasons: Partial<Record<StoreCapability | StoreLimit, string>> = {},
): void {
  /** The store, when it enforces the limit; the test is skipped with the stated reason otherwise. */
  const enforcing = async (context: TestContext): Promise<SessionStore> => {
    const s = await setup()
    const reason = skipReasons.maxFields
    if (reason !== undefined) context.skip(reason)
    if (!storeEnforces(s, 'maxFields')) {
      throw new Error(
        `${s.name} does not list 'maxFields' in its limits: enforce it or pass skipCapabilities.maxFields`,
      )
    }
    return s
  }

  it('refuses a new field at maxFields and changes nothing; existing fields stay writable', async (context) => {
    const s = await enforcing(context)
    const key = await sessionWith(s, ['a', 'b', 'c'])
    const before = await fieldsOf(s, key)
    expect(await s.write(key, 'd', bytes('new'), limited())).toMatchObject({ status: 'full', live: true })
    expect(await s.write(key, 'd', bytes('new'), limited({ mode: 'insert' }))).toMatchObject({ status: 'full' })
    expect(await s.get(key, 'd')).toMatchObject({ live: true, value: undefined })
    expect(await fieldsOf(s, key)).toEqual(before)
    // Updating a field the session holds never hits the limit; insert of one reports `exists`.
    expect(await s.write(key, 'b', bytes('changed'), limited())).toMatchObject({ status: 'written' })
    expect(await s.write(key, 'c', bytes('ignored'), limited({ mode: 'insert' }))).toMatchObject({ status: 'exists' })
    expect(await fieldsOf(s, key)).toEqual({ a: 'v:a', b: 'changed', c: 'v:c' })
    // After a removal a new field fits again, and only one.
    expect(await s.remove(key, 'a')).toMatchObject({ removed: true })
    expect(await s.write(key, 'd', bytes('new'), limited())).toMatchObject({ status: 'written' })
    expect(await s.write(key, 'e', bytes('new'), limited())).toMatchObject({ status: 'full' })
    expect(await fieldsOf(s, key)).toEqual({ b: 'changed', c: 'v:c', d: 'new' })
  })

  it('does not count expired fields against maxFields', async (context) => {
    const s = await enforcing(context)
    const key = await sessionWith(s, ['keep', 'short1', 'short2'], 1)
    await sleep(1_300)
    expect(await s.write(key, 'd', bytes('new'), limited())).toMatchObject({ status: 'written' })
    // An expired field's own name is a new field too.
    expect(await s.write(key, 'short1', bytes('back'), limited({ mode: 'insert' }))).toMatchObject({
      status: 'written',
    })
    expect(await s.write(key, 'e', bytes('new'), limited())).toMatchObject({ status: 'full' })
    expect(await fieldsOf(s, key)).toEqual({ d: 'new', keep: 'v:keep', short1: 'back' })
  })

  it('keeps not counting expired fields after a full session reclaimed some (update and insert)', async (context) => {
    const s = await enforcing(context)
    for (const mode of ['update', 'insert'] as const) {
      // Full with one short field; once it expired a new short field fits in its place, and once that
      // one expired too, another: each round finds the expired field, however the store tracks them.
      const key = await sessionWith(s, ['keep', 'long', 'short'], HOUR)
      expect(await s.write(key, 'short', bytes('v:short'), limited({ fieldTtl: 1 }))).toMatchObject({
        status: 'written',
      })
      for (const [name, fieldTtl] of [
        ['next1', 1],
        ['next2', HOUR],
      ] as const) {
        await sleep(1_200)
        const written = await s.write(key, name, bytes(`v:${name}`), limited({ mode, fieldTtl }))
        expect(written.status, `${mode} of ${name}`).toBe('written')
      }
      expect(await s.write(key, 'over', bytes('x'), limited({ mode }))).toMatchObject({ status: 'full' })
      expect(Object.keys((await fieldsOf(s, key)) ?? {})).toEqual(['keep', 'long', 'next2'])
    }
  })

  it('consumes a renameFrom even when maxFields refuses the write', async (context) => {
    const s = await enforcing(context)
    const from = await sessionWith(s, ['a', 'b', 'c'])
    const to = newKey()
    expect(await s.write(to, 'd', bytes('new'), limited({ renameFrom: from }))).toMatchObject({
      status: 'full',
      live: true,
    })
    expect(await s.get(from, 'a')).toEqual({ live: false })
    expect(await fieldsOf(s, to)).toEqual({ a: 'v:a', b: 'v:b', c: 'v:c' })
  })

  it('refuses an increment that would create a field at maxFields; one of a live field adds', async (context) => {
    const s = await enforcing(context)
    if (!storeSupports(s, 'fieldOperations') || skipReasons.fieldOperations !== undefined) {
      context.skip(skipReasons.fieldOperations ?? `${s.name} has no increment`)
    }
    const increment = (s.increment as NonNullable<SessionStore['increment']>).bind(s)
    const key = newKey()
    const counter = (by: number, session: 'create' | 'existing' = 'existing') =>
      increment(key, 'count', { session, fieldTtl: HOUR, sessionTtl: HOUR, maxFields: MAX_FIELDS, by, format: 'json' })
    expect(await counter(1, 'create')).toMatchObject({ status: 'written', value: 1 })
    for (const name of ['a', 'b']) await s.write(key, name, bytes(`v:${name}`), limited())
    const before = await fieldsOf(s, key)
    expect(await counter(5)).toMatchObject({ status: 'written', value: 6 })
    const full = await increment(key, 'other', {
      session: 'existing',
      fieldTtl: HOUR,
      sessionTtl: HOUR,
      maxFields: MAX_FIELDS,
      by: 1,
      format: 'json',
    })
    expect(full).toMatchObject({ status: 'full', live: true })
    expect(await fieldsOf(s, key)).toEqual({ ...before, count: '6' })
  })
}
