import { expect, it } from 'vitest'
import type { SessionStore, StoreCapability, WriteOptions } from '../core/store.js'
import type { HardeningOptions } from './store-hardening.js'
import { describeSubjectRaces } from './subject-races.js'
import { creating, HOUR, keysOf, moving, newSubject, type SubjectSuite, sorted, subjectSuite } from './subject-store.js'
import { bytes, newKey, sleep, text } from './values.js'

const write = (session: 'create' | 'existing', extra: Partial<WriteOptions> = {}): WriteOptions => ({
  mode: 'update',
  session,
  fieldTtl: HOUR,
  sessionTtl: HOUR,
  ...extra,
})
/** Long enough between two operations for every store's clock to tell them apart. */
const TICK = 25

/**
 * The `subjects` capability (`bind`, `subjectOf`, `listSubject`, `revokeSubject`) of the
 * store contract, registered inside {@link describeStoreConformance}'s suite. A store without the
 * capability fails these tests unless the caller states why it skips them.
 *
 * @param setup - resolves the suite's store
 * @param options - `skipCapabilities` (with the reason), `subjectIndexSize` (for the bounded-index
 *   case) and `twin` (another instance over the same backends) of the suite's options
 */
export function describeSubjects(
  setup: () => Promise<SessionStore>,
  options: Pick<HardeningOptions, 'twin'> & {
    skipCapabilities?: Partial<Record<StoreCapability, string>> | undefined
    subjectIndexSize?: SubjectSuite['indexSize']
  } = {},
): void {
  const suite = subjectSuite(setup, options.skipCapabilities ?? {}, options.subjectIndexSize, options.twin)
  const { capable } = suite

  it('binds a new session at creation: bound, listed, with its subject, meta and times', async (context) => {
    const s = await capable(context)
    const subject = newSubject('create')
    const key = newKey()
    const before = Date.now()
    const bound = await s.bind(key, creating(subject, '{"device":"Firefox"}'))
    expect(bound).toMatchObject({ status: 'bound', live: true, touched: true, ended: [] })
    expect(bound.status === 'bound' && bound.ttl).toBeGreaterThan((HOUR - 5) * 1000)
    expect(await s.subjectOf(key)).toMatchObject({ live: true, subject, meta: '{"device":"Firefox"}' })
    const [listed, ...rest] = await s.listSubject(subject)
    expect(rest).toEqual([])
    expect(listed).toMatchObject({ key, meta: '{"device":"Firefox"}' })
    // Store clocks may differ from this process's by a little; an hour's lifetime may not.
    const info = listed as NonNullable<typeof listed>
    expect(Math.abs(info.createdAt - before)).toBeLessThan(5_000)
    expect(info.lastActiveAt).toBeGreaterThanOrEqual(info.createdAt)
    expect(Math.abs(info.expiresAt - (before + HOUR * 1000))).toBeLessThan(5_000)
    // A bound session is an ordinary session.
    expect(await s.write(key, 'user', bytes('ada'), write('existing'))).toMatchObject({ status: 'written' })
    expect(await s.get(key, 'user')).toMatchObject({ live: true })
    expect(await s.listSubject(newSubject('nobody'))).toEqual([])
    // maxLifetime caps a created session, as for a created write.
    const capped = await s.bind(newKey(), creating(subject, '{}', { maxLifetime: 50 }))
    expect(capped.status === 'bound' && capped.ttl).toBeLessThanOrEqual(50_000)
  })

  it('refuses to bind-create over a live session (collision), changing nothing', async (context) => {
    const s = await capable(context)
    const subject = newSubject('collide')
    const key = newKey()
    await s.write(key, 'a', bytes('theirs'), write('create'))
    expect(await s.bind(key, creating(subject))).toEqual({ status: 'collision' })
    expect(await s.subjectOf(key)).toMatchObject({ live: true, subject: undefined, meta: undefined })
    expect(await s.listSubject(subject)).toEqual([])
    const read = await s.get(key, 'a')
    expect(read.live && text(read.value)).toBe('theirs')
  })

  it('moves an unbound session to the new key when binding it, with its fields and TTLs; the old key is dead', async (context) => {
    const s = await capable(context)
    const subject = newSubject('login')
    const from = newKey()
    const to = newKey()
    await s.write(from, 'cart', bytes('3 items'), write('create', { sessionTtl: 600 }))
    await s.write(from, 'flash', bytes('hi'), write('existing', { fieldTtl: 1, sessionTtl: 1 }))
    expect(await s.subjectOf(from)).toMatchObject({ live: true, subject: undefined })
    const bound = await s.bind(to, moving(from, subject, '{"n":1}', { sessionTtl: 60 }))
    expect(bound).toMatchObject({ status: 'bound', live: true, ended: [] })
    // Extended to at least sessionTtl, never shortened: the session had 600 s.
    expect(bound.status === 'bound' && bound.ttl).toBeGreaterThan(590_000)
    for (const read of [await s.get(from, 'cart'), await s.getAll(from), await s.subjectOf(from)]) {
      expect(read).toEqual({ live: false })
    }
    expect(await s.write(from, 'x', bytes('1'), write('existing'))).toEqual({ status: 'missing' })
    const cart = await s.get(to, 'cart')
    expect(cart.live && text(cart.value)).toBe('3 items')
    expect(await s.subjectOf(to)).toMatchObject({ live: true, subject, meta: '{"n":1}' })
    expect(keysOf(await s.listSubject(subject))).toEqual([to])
    await sleep(1_300)
    expect(await s.get(to, 'flash')).toMatchObject({ live: true, value: undefined })
  })

  it('keeps the session where it is when it is bound to the subject already, replacing only meta', async (context) => {
    const s = await capable(context)
    const subject = newSubject('same')
    const key = newKey()
    await s.bind(key, creating(subject, '{"v":1}', { sessionTtl: 60 }))
    const unused = newKey()
    const kept = await s.bind(unused, moving(key, subject, '{"v":2}'))
    expect(kept).toMatchObject({ status: 'kept', live: true, ended: [] })
    // Extended to sessionTtl like any bind.
    expect(kept.status === 'kept' && kept.ttl).toBeGreaterThan((HOUR - 5) * 1000)
    expect(await s.get(unused, 'a')).toEqual({ live: false })
    expect(await s.subjectOf(unused)).toEqual({ live: false })
    expect(await s.subjectOf(key)).toMatchObject({ live: true, subject, meta: '{"v":2}' })
    const list = await s.listSubject(subject)
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ key, meta: '{"v":2}' })
  })

  it('moves a session bound to one subject to a new key when it binds to another, leaving the first list', async (context) => {
    const s = await capable(context)
    const [first, second] = [newSubject('first'), newSubject('second')]
    const key = newKey()
    await s.bind(key, creating(first))
    const moved = newKey()
    expect(await s.bind(moved, moving(key, second, '{"to":2}'))).toMatchObject({ status: 'bound' })
    expect(await s.get(key, 'a')).toEqual({ live: false })
    expect(await s.listSubject(first)).toEqual([])
    expect(keysOf(await s.listSubject(second))).toEqual([moved])
    expect(await s.subjectOf(moved)).toMatchObject({ subject: second, meta: '{"to":2}' })
  })

  it('answers missing for a bind of a session that is not live, and collision for a live target, changing nothing', async (context) => {
    const s = await capable(context)
    const subject = newSubject('missing')
    const target = newKey()
    expect(await s.bind(target, moving(newKey(), subject))).toEqual({ status: 'missing' })
    expect(await s.get(target, 'a')).toEqual({ live: false })
    expect(await s.listSubject(subject)).toEqual([])
    const mine = newKey()
    const taken = newKey()
    await s.write(mine, 'a', bytes('mine'), write('create'))
    await s.write(taken, 'a', bytes('theirs'), write('create'))
    expect(await s.bind(taken, moving(mine, subject))).toEqual({ status: 'collision' })
    expect(await s.subjectOf(mine)).toMatchObject({ live: true, subject: undefined })
    expect(await s.subjectOf(taken)).toMatchObject({ live: true, subject: undefined })
    expect(await s.listSubject(subject)).toEqual([])
  })

  it('reports no subject for an unbound or unknown session', async (context) => {
    const s = await capable(context)
    expect(await s.subjectOf(newKey())).toEqual({ live: false })
    const key = newKey()
    await s.write(key, 'a', bytes('1'), write('create'))
    expect(await s.subjectOf(key)).toMatchObject({ live: true, subject: undefined, meta: undefined })
  })

  it('keeps a session bound through a rename and a renameFrom write: the list names the new key', async (context) => {
    const s = await capable(context)
    const subject = newSubject('rename')
    const [a, b, c] = [newKey(), newKey(), newKey()]
    await s.bind(a, creating(subject, '{"d":1}'))
    expect(await s.rename(a, b)).toMatchObject({ status: 'renamed' })
    expect(keysOf(await s.listSubject(subject))).toEqual([b])
    expect(await s.subjectOf(b)).toMatchObject({ subject, meta: '{"d":1}' })
    expect(await s.write(c, 'x', bytes('1'), write('existing', { renameFrom: b }))).toMatchObject({
      status: 'written',
    })
    expect(keysOf(await s.listSubject(subject))).toEqual([c])
    expect(await s.subjectOf(c)).toMatchObject({ subject, meta: '{"d":1}' })
    expect(await s.subjectOf(b)).toEqual({ live: false })
  })

  it('lists live sessions only, most recently active first (writes, lifetime refreshes and expire count)', async (context) => {
    const s = await capable(context)
    const subject = newSubject('order')
    const [a, b, c] = [newKey(), newKey(), newKey()]
    await s.bind(a, creating(subject, '{}', { sessionTtl: 100 }))
    await sleep(TICK)
    await s.bind(b, creating(subject, '{}', { sessionTtl: 100 }))
    await sleep(TICK)
    await s.bind(c, creating(subject, '{}', { sessionTtl: 100 }))
    expect(keysOf(await s.listSubject(subject))).toEqual([c, b, a])
    await sleep(TICK)
    await s.write(a, 'x', bytes('1'), write('existing', { fieldTtl: 100, sessionTtl: 100 }))
    expect(keysOf(await s.listSubject(subject))).toEqual([a, c, b])
    await sleep(TICK)
    // A read without a refresh is no activity; one whose refresh moved the expiry is.
    await s.get(b, 'x')
    expect(keysOf(await s.listSubject(subject))).toEqual([a, c, b])
    expect(await s.get(b, 'x', { touch: { ttl: 200, threshold: 10 } })).toMatchObject({ touched: true })
    const list = await s.listSubject(subject)
    expect(keysOf(list)).toEqual([b, a, c])
    expect(list[0]?.expiresAt).toBeGreaterThan(Date.now() + 150_000)
    await sleep(TICK)
    // Setting the lifetime is activity too, on every store.
    await s.expire(c, 300)
    expect(keysOf(await s.listSubject(subject))).toEqual([c, b, a])
  })

  it('drops expired, deleted and expire(0)d sessions from the list without any cleanup job', async (context) => {
    const s = await capable(context)
    const subject = newSubject('gone')
    const [short, deleted, zeroed, kept] = [newKey(), newKey(), newKey(), newKey()]
    await s.bind(short, creating(subject, '{}', { sessionTtl: 1 }))
    await s.bind(deleted, creating(subject))
    await s.bind(zeroed, creating(subject))
    await s.bind(kept, creating(subject))
    expect(sorted(keysOf(await s.listSubject(subject)))).toEqual(sorted([short, deleted, zeroed, kept]))
    expect(await s.delete(deleted)).toBe(true)
    expect(await s.expire(zeroed, 0)).toEqual({ live: false })
    expect(sorted(keysOf(await s.listSubject(subject)))).toEqual(sorted([short, kept]))
    await sleep(1_300)
    expect(keysOf(await s.listSubject(subject))).toEqual([kept])
    expect(await s.subjectOf(short)).toEqual({ live: false })
    // An expired key is absent: creating over it binds afresh, to nobody.
    expect(await s.write(short, 'a', bytes('1'), write('create'))).toMatchObject({ status: 'written' })
    expect(await s.subjectOf(short)).toMatchObject({ live: true, subject: undefined })
    expect(keysOf(await s.listSubject(subject))).toEqual([kept])
  })

  it('revokes the given keys of the subject only, resolving with exactly the keys it ended', async (context) => {
    const s = await capable(context)
    const [subject, other] = [newSubject('revoke'), newSubject('other')]
    const [a, b, c, theirs, unbound] = [newKey(), newKey(), newKey(), newKey(), newKey()]
    for (const key of [a, b, c]) await s.bind(key, creating(subject))
    await s.bind(theirs, creating(other))
    await s.write(unbound, 'a', bytes('1'), write('create'))
    expect(await s.revokeSubject(subject, { keys: [a, theirs, unbound, newKey()] })).toEqual([a])
    expect(await s.get(a, 'x')).toEqual({ live: false })
    for (const key of [theirs, unbound, b, c]) expect(await s.get(key, 'x')).toMatchObject({ live: true })
    expect(keysOf(await s.listSubject(other))).toEqual([theirs])
    expect(sorted(keysOf(await s.listSubject(subject)))).toEqual(sorted([b, c]))
    // Already ended: nothing more to end.
    expect(await s.revokeSubject(subject, { keys: [a] })).toEqual([])
    expect(await s.revokeSubject(subject, { keys: [] })).toEqual([])
    expect(await s.revokeSubject(newSubject('nobody'), {})).toEqual([])
  })

  it('revokes all sessions of a subject, or all but one, and never a key of another subject', async (context) => {
    const s = await capable(context)
    const [subject, other] = [newSubject('all'), newSubject('bystander')]
    const keys = [newKey(), newKey(), newKey(), newKey()]
    for (const key of keys) await s.bind(key, creating(subject))
    const bystander = newKey()
    await s.bind(bystander, creating(other))
    const [spared, ...rest] = keys as [string, ...string[]]
    expect(sorted(await s.revokeSubject(subject, { except: spared }))).toEqual(sorted(rest))
    expect(keysOf(await s.listSubject(subject))).toEqual([spared])
    for (const key of rest) expect(await s.getAll(key)).toEqual({ live: false })
    expect(await s.revokeSubject(subject, { keys: [spared, bystander], except: spared })).toEqual([])
    expect(await s.revokeSubject(subject, {})).toEqual([spared])
    expect(await s.listSubject(subject)).toEqual([])
    expect(await s.get(spared, 'x')).toEqual({ live: false })
    expect(keysOf(await s.listSubject(other))).toEqual([bystander])
    // A revoked session stays out of its subject: a new bind of the subject lists only itself.
    const fresh = newKey()
    await s.bind(fresh, creating(subject))
    expect(keysOf(await s.listSubject(subject))).toEqual([fresh])
  })

  it('leaves nothing a revoked key can use: writes, reads, increments, takes, renames and binds find no session', async (context) => {
    const s = await capable(context)
    const subject = newSubject('dead')
    const key = newKey()
    await s.bind(key, creating(subject))
    await s.write(key, 'n', bytes('1'), write('existing'))
    expect(await s.revokeSubject(subject, { keys: [key] })).toEqual([key])
    expect(await s.write(key, 'n', bytes('2'), write('existing'))).toEqual({ status: 'missing' })
    expect(await s.get(key, 'n')).toEqual({ live: false })
    expect(await s.getAll(key)).toEqual({ live: false })
    expect(await s.remove(key, 'n')).toEqual({ live: false })
    expect(await s.expire(key, 60)).toEqual({ live: false })
    expect(await s.rename(key, newKey())).toEqual({ status: 'missing' })
    expect(await s.write(newKey(), 'n', bytes('2'), write('existing', { renameFrom: key }))).toEqual({
      status: 'missing',
    })
    expect(await s.bind(newKey(), moving(key, subject))).toEqual({ status: 'missing' })
    expect(await s.subjectOf(key)).toEqual({ live: false })
    if (s.increment !== undefined) {
      const increment = { session: 'existing', fieldTtl: HOUR, sessionTtl: HOUR, by: 1, format: 'json' } as const
      expect(await s.increment(key, 'c', increment)).toEqual({ status: 'missing' })
    }
    if (s.take !== undefined) expect(await s.take(key, 'n')).toEqual({ live: false })
    expect(await s.delete(key)).toBe(false)
    expect(await s.listSubject(subject)).toEqual([])
  })

  it('ends the least recently active sessions beyond maxSessions when binding one more', async (context) => {
    const s = await capable(context)
    const subject = newSubject('max')
    const [a, b, c] = [newKey(), newKey(), newKey()]
    for (const key of [a, b, c]) {
      await s.bind(key, creating(subject, '{}', { maxSessions: 3 }))
      await sleep(TICK)
    }
    await s.write(a, 'x', bytes('1'), write('existing'))
    await sleep(TICK)
    const d = newKey()
    const bound = await s.bind(d, creating(subject, '{}', { maxSessions: 3 }))
    expect(bound).toMatchObject({ status: 'bound', ended: [b] })
    expect(await s.get(b, 'x')).toEqual({ live: false })
    expect(keysOf(await s.listSubject(subject))).toEqual([d, a, c])
    await sleep(TICK)
    // Moving an unbound session in counts like creating one; a kept bind applies the limit too.
    const guest = newKey()
    await s.write(guest, 'cart', bytes('1'), write('create'))
    const e = newKey()
    const moved = await s.bind(e, moving(guest, subject, '{}', { maxSessions: 3 }))
    expect(moved.status === 'bound' && sorted(moved.ended)).toEqual(sorted([c]))
    expect(keysOf(await s.listSubject(subject))).toEqual([e, d, a])
    const kept = await s.bind(newKey(), moving(e, subject, '{}', { maxSessions: 1 }))
    expect(kept.status === 'kept' && sorted(kept.ended)).toEqual(sorted([a, d]))
    expect(keysOf(await s.listSubject(subject))).toEqual([e])
  })

  describeSubjectRaces(suite)
}
