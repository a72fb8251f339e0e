import { describe, expect, it } from 'vitest'
import type { BindOptions, SessionStore, WriteOptions } from '../../src/core/store.js'
import type { PostgresStore } from '../../src/stores/postgres/index.js'
import { bytes, newKey, sleep, text } from '../../src/testing/values.js'
import { countStatements, skipReason, testPool, testStore } from './helpers.js'

// PostgresStore's subjects (SPEC §13) beyond the shared conformance cases: the layout (a column of
// the session row), one statement per call, activity times, and what the upgrade does to old rows.
const HOUR = 3600
const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl: HOUR, sessionTtl: HOUR }
const update: WriteOptions = { ...create, session: 'existing' }
const bindNew = (subject: string, extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'create',
  subject,
  meta: '{}',
  sessionTtl: HOUR,
  ...extra,
})
const bindExisting = (from: string, subject: string, extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'existing',
  renameFrom: from,
  subject,
  meta: '{}',
  sessionTtl: HOUR,
  ...extra,
})
const subjectName = (): string => `user:${newKey().slice(0, 8)}`
// One small pool for the file: the server's connection limit is shared with the other test files.
let pool: ReturnType<typeof testPool> | undefined
const freshStore = async (): Promise<PostgresStore> => {
  pool ??= testPool({ max: 5 })
  return testStore({ pool })
}

/** A live session with one field, bound to `subject`; returns its key. */
async function boundSession(store: SessionStore, subject: string, extra: Partial<BindOptions> = {}): Promise<string> {
  const key = newKey()
  await store.write(key, 'f', bytes('v'), create)
  const next = newKey()
  const bound = await store.bind?.(next, bindExisting(key, subject, extra))
  expect(bound).toMatchObject({ status: 'bound' })
  return next
}

describe.skipIf(skipReason !== undefined)(`PostgresStore subjects${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('binds by moving the session with its fields, keeps it on the same subject, and reports both', async () => {
    const store = await freshStore()
    const key = newKey()
    await store.write(key, 'cart', bytes('3 items'), create)
    const next = newKey()
    const bound = await store.bind(next, bindExisting(key, 'user:1', { meta: '{"device":"a"}' }))
    expect(bound).toMatchObject({ status: 'bound', live: true, ended: [] })
    expect(await store.get(key, 'cart')).toEqual({ live: false })
    const moved = await store.get(next, 'cart')
    expect(moved.live && text(moved.value)).toBe('3 items')
    expect(await store.subjectOf(next)).toMatchObject({ live: true, subject: 'user:1', meta: '{"device":"a"}' })
    // The same subject again: meta replaced, the key stays (the fresh key is not even looked at).
    const kept = await store.bind(newKey(), bindExisting(next, 'user:1', { meta: '{"device":"b"}' }))
    expect(kept).toMatchObject({ status: 'kept', ended: [] })
    expect(await store.subjectOf(next)).toMatchObject({ subject: 'user:1', meta: '{"device":"b"}' })
    // Another subject: moves again and leaves the first subject's list.
    const third = newKey()
    expect(await store.bind(third, bindExisting(next, 'user:2'))).toMatchObject({ status: 'bound' })
    expect(await store.listSubject('user:1')).toEqual([])
    expect((await store.listSubject('user:2')).map((each) => each.key)).toEqual([third])
    expect(await store.subjectOf(newKey())).toEqual({ live: false })
  })

  it('answers missing and collision with nothing changed', async () => {
    const store = await freshStore()
    const subject = subjectName()
    expect(await store.bind(newKey(), bindExisting(newKey(), subject))).toEqual({ status: 'missing' })
    const taken = newKey()
    await store.write(taken, 'f', bytes('x'), create)
    expect(await store.bind(taken, bindNew(subject))).toEqual({ status: 'collision' })
    const key = newKey()
    await store.write(key, 'f', bytes('y'), create)
    expect(await store.bind(taken, bindExisting(key, subject))).toEqual({ status: 'collision' })
    expect(await store.subjectOf(key)).toMatchObject({ live: true, subject: undefined })
    expect(await store.listSubject(subject)).toEqual([])
  })

  it('lists live sessions most recently active first; writes and refreshes are activity, renames are not', async () => {
    const store = await freshStore()
    const subject = subjectName()
    const older = await boundSession(store, subject)
    await sleep(20)
    const newer = await boundSession(store, subject)
    const listed = await store.listSubject(subject)
    expect(listed.map((each) => each.key)).toEqual([newer, older])
    const now = Date.now()
    for (const each of listed) {
      expect(Math.abs(each.createdAt - now)).toBeLessThan(5_000)
      expect(each.lastActiveAt).toBeGreaterThanOrEqual(each.createdAt)
      expect(Math.abs(each.expiresAt - (now + HOUR * 1000))).toBeLessThan(5_000)
      expect(each.meta).toBe('{}')
    }
    await sleep(20)
    await store.write(older, 'g', bytes('w'), update)
    expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([older, newer])
    await sleep(20)
    await store.get(newer, 'f', { touch: { ttl: HOUR * 2, threshold: 60 } })
    const afterTouch = await store.listSubject(subject)
    expect(afterTouch.map((each) => each.key)).toEqual([newer, older])
    // A rename (regenerate) keeps the binding, the creation and the activity time.
    const renamed = newKey()
    await sleep(20)
    expect(await store.rename(newer, renamed)).toMatchObject({ status: 'renamed' })
    const afterRename = await store.listSubject(subject)
    expect(afterRename.map((each) => each.key)).toEqual([renamed, older])
    expect(afterRename[0]).toMatchObject({
      createdAt: afterTouch[0]?.createdAt,
      lastActiveAt: afterTouch[0]?.lastActiveAt,
    })
  })

  it('drops expired and deleted sessions from the list at once, without a cleanup run', async () => {
    const store = await freshStore()
    const subject = subjectName()
    const short = newKey()
    expect(await store.bind(short, bindNew(subject, { sessionTtl: 1 }))).toMatchObject({ status: 'bound' })
    const deleted = await boundSession(store, subject)
    const expired = await boundSession(store, subject)
    const kept = await boundSession(store, subject)
    expect(await store.listSubject(subject)).toHaveLength(4)
    await store.delete(deleted)
    await store.expire(expired, 0)
    await sleep(1_100)
    expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([kept])
    expect(await store.revokeSubject(subject, {})).toEqual([kept])
  })

  it('maxSessions ends the least recently active sessions beyond the limit, in the bind, and names them', async () => {
    const store = await freshStore()
    const subject = subjectName()
    const first = await boundSession(store, subject)
    const second = await boundSession(store, subject)
    const third = await boundSession(store, subject)
    await store.write(first, 'g', bytes('recent'), update)
    const fourth = newKey()
    const bound = await store.bind(fourth, bindNew(subject, { maxSessions: 2 }))
    expect(bound).toMatchObject({ status: 'bound' })
    expect(bound.status === 'bound' && [...bound.ended].sort()).toEqual([second, third].sort())
    expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([fourth, first])
    expect(await store.get(second, 'f')).toEqual({ live: false })
    // A kept bind trims too, never itself.
    const kept = await store.bind(newKey(), bindExisting(first, subject, { maxSessions: 1 }))
    expect(kept).toMatchObject({ status: 'kept', ended: [fourth] })
    expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([first])
  })

  it('revokes all, some (keys) or all but one (except) of a subject, and only its live sessions', async () => {
    const store = await freshStore()
    const subject = subjectName()
    const [a, b, c, d] = [
      await boundSession(store, subject),
      await boundSession(store, subject),
      await boundSession(store, subject),
      await boundSession(store, subject),
    ] as [string, string, string, string]
    const stranger = await boundSession(store, subjectName())
    expect(await store.revokeSubject(subject, { keys: [a, stranger, newKey()] })).toEqual([a])
    expect(await store.get(stranger, 'f')).toMatchObject({ live: true })
    expect((await store.revokeSubject(subject, { except: b })).sort()).toEqual([c, d].sort())
    expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([b])
    expect(await store.revokeSubject(subject, {})).toEqual([b])
    expect(await store.revokeSubject(subject, {})).toEqual([])
    for (const key of [a, b, c, d]) expect(await store.getAll(key)).toEqual({ live: false })
  })

  it('costs one statement per subject call', async () => {
    const counted = testPool({ max: 2 })
    const store: PostgresStore = await testStore({ pool: counted })
    const subject = subjectName()
    const queries = countStatements(counted)
    const key = newKey()
    await store.write(key, 'f', bytes('x'), create)
    const next = newKey()
    const steps: Array<() => Promise<unknown>> = [
      () => store.bind(next, bindExisting(key, subject, { maxSessions: 3 })),
      () => store.bind(newKey(), bindNew(subject, { maxSessions: 1 })),
      () => store.subjectOf(next),
      () => store.listSubject(subject),
      () => store.revokeSubject(subject, { except: next }),
    ]
    for (const step of steps) {
      const before = queries()
      await step()
      expect(queries() - before).toBe(1)
    }
  })
})
