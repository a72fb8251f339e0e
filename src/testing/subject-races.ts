import { expect, it } from 'vitest'
import type { BindResult, SessionKey, WriteOptions } from '../core/store.js'
import { creating, HOUR, keysOf, moving, newSubject, type SubjectStore, type SubjectSuite } from './subject-store.js'
import { bytes, newKey, sleep } from './values.js'

const existing: WriteOptions = { mode: 'update', session: 'existing', fieldTtl: HOUR, sessionTtl: HOUR }
const created: WriteOptions = { ...existing, session: 'create' }

/**
 * Deadline of each race case: hundreds of store calls, in bursts of 30, which a store over a network
 * (a layered store over Postgres: several round trips per call) on a loaded machine needs more than
 * the 20 s default for.
 */
const RACE_TIMEOUT = 60_000

/** Sessions of the bounded-index case, and how many index entries may remain after a list prunes. */
const MANY = 2_000
const INDEX_SLACK = 10

/**
 * Start every call at once, in order (so a store that pipelines sends them in this order), and wait
 * for all of them.
 */
function together<T>(calls: readonly (() => Promise<T>)[]): Promise<T[]> {
  return Promise.all(calls.map((call) => call()))
}

/** @returns the keys among `keys` that still hold a live session */
async function liveKeys(s: SubjectStore, keys: readonly SessionKey[]): Promise<SessionKey[]> {
  const reads = await Promise.all(keys.map((key) => s.getAll(key)))
  return keys.filter((_, index) => reads[index]?.live)
}

/**
 * The races and bounds of subjects, run with real concurrency through the store: registered by
 * `describeSubjects` inside the conformance suite.
 *
 * @param suite - the subject cases' helpers
 */
export function describeSubjectRaces(suite: SubjectSuite): void {
  const { capable, indexSize, twin } = suite

  it(
    'leaves no session bound concurrently with revokeSubject alive and unlisted',
    async (context) => {
      const s = await capable(context)
      for (let round = 0; round < 3; round++) {
        const subject = newSubject(`race${round}`)
        const guests = Array.from({ length: 30 }, newKey)
        await together(guests.map((guest) => () => s.write(guest, 'cart', bytes('1'), created)))
        const targets = guests.map(() => newKey())
        // Logins of existing sessions and of new ones, with two revocations among them at places
        // that move every round.
        const calls: (() => Promise<BindResult | SessionKey[]>)[] = guests.map((guest, index) =>
          index % 2 === 0
            ? () => s.bind(targets[index] as SessionKey, moving(guest, subject))
            : () => s.bind(targets[index] as SessionKey, creating(subject)),
        )
        calls.splice(5 + round * 8, 0, () => s.revokeSubject(subject, {}))
        calls.splice(20 + round * 3, 0, () => s.revokeSubject(subject, {}))
        const results = await together(calls)
        const binds = results.filter((result): result is BindResult => !Array.isArray(result))
        expect(binds.every((result) => result.status === 'bound')).toBe(true)
        const revoked = results.filter((result): result is SessionKey[] => Array.isArray(result)).flat()
        const alive = await liveKeys(s, targets)
        const listed = keysOf(await s.listSubject(subject))
        // The guarantee: every session of the subject is ended or listed, never alive and unlisted.
        expect(alive.filter((key) => !listed.includes(key))).toEqual([])
        expect([...listed].sort()).toEqual([...alive].sort())
        for (const key of revoked) expect(alive).not.toContain(key)
        // A moved session's old key never survives either.
        expect(
          await liveKeys(
            s,
            guests.filter((_, index) => index % 2 === 0),
          ),
        ).toEqual([])
      }
    },
    RACE_TIMEOUT,
  )

  it(
    'never lets a write, increment or rename in flight bring a revoked session back',
    async (context) => {
      const s = await capable(context)
      for (const target of ['keys', 'all'] as const) {
        const subject = newSubject(`inflight-${target}`)
        const key = newKey()
        await s.bind(key, creating(subject))
        const renamedTo = newKey()
        const writes = Array.from({ length: 10 }, (_, index) => () => s.write(key, `f${index}`, bytes('x'), existing))
        const increments =
          s.increment === undefined
            ? []
            : Array.from({ length: 5 }, () => () => {
                const options = { ...existing, by: 1, format: 'json' } as const
                return (s.increment as NonNullable<typeof s.increment>)(key, 'n', options)
              })
        const revoke = () => s.revokeSubject(subject, target === 'keys' ? { keys: [key] } : {})
        const results = await together<unknown>([
          ...writes.slice(0, 5),
          ...increments,
          revoke,
          ...writes.slice(5),
          () => s.rename(key, renamedTo),
        ])
        // A store that runs calls in parallel (a connection pool) may commit the rename first: then the
        // revocation meets the session at its new key (all), or does not target it any more (keys).
        const ended = results.find((result): result is SessionKey[] => Array.isArray(result))
        const renamedFirst = target === 'keys' && ended?.length === 0
        if (!renamedFirst) expect([[key], [renamedTo]]).toContainEqual(ended)
        for (const dead of renamedFirst ? [key] : [key, renamedTo]) {
          expect(await s.getAll(dead)).toEqual({ live: false })
          expect(await s.write(dead, 'late', bytes('x'), existing)).toEqual({ status: 'missing' })
        }
        expect(keysOf(await s.listSubject(subject))).toEqual(renamedFirst ? [renamedTo] : [])
      }
    },
    RACE_TIMEOUT,
  )

  it(
    'ends a renamed session when revokeSubject(all) races the rename',
    async (context) => {
      const s = await capable(context)
      const subject = newSubject('regenerate')
      const keys = Array.from({ length: 20 }, newKey)
      for (const key of keys) await s.bind(key, creating(subject))
      const renamed = keys.map(() => newKey())
      const calls: (() => Promise<unknown>)[] = keys.map((key, index) => () => s.rename(key, renamed[index] as string))
      calls.splice(10, 0, () => s.revokeSubject(subject, {}))
      await together(calls)
      expect(await liveKeys(s, [...keys, ...renamed])).toEqual([])
      expect(await s.listSubject(subject)).toEqual([])
    },
    RACE_TIMEOUT,
  )

  it.skipIf(twin === undefined)(
    `once a revocation resolved, another instance never serves the revoked sessions${twin ? '' : ' (skipped: one instance holds no state of its own)'}`,
    async (context) => {
      const a = await capable(context)
      const b = (await (twin as NonNullable<typeof twin>)()) as SubjectStore
      for (const how of ['keys', 'all', 'maxSessions'] as const) {
        const subject = newSubject(`twin-${how}`)
        const keys = [newKey(), newKey()]
        for (const key of keys) {
          await a.bind(key, creating(subject))
          await a.write(key, 'user', bytes('ada'), existing)
          // The other instance has read it (a layered store now holds it in hot).
          expect(await b.get(key, 'user')).toMatchObject({ live: true })
          await sleep(5)
        }
        const [victim] = keys as [SessionKey, SessionKey]
        // Reads on the twin race the revocation; whatever they saw, none may revive the session.
        const reads = Array.from({ length: 5 }, () => b.get(victim, 'user'))
        if (how === 'keys') expect(await a.revokeSubject(subject, { keys: [victim] })).toEqual([victim])
        else if (how === 'all') expect((await a.revokeSubject(subject, {})).sort()).toEqual([...keys].sort())
        else
          expect(await a.bind(newKey(), creating(subject, '{}', { maxSessions: 2 }))).toMatchObject({ ended: [victim] })
        await Promise.all(reads)
        for (const store of [a, b]) {
          expect(await store.get(victim, 'user')).toEqual({ live: false })
          expect(await store.getAll(victim)).toEqual({ live: false })
          expect(keysOf(await store.listSubject(subject))).not.toContain(victim)
        }
      }
      await b.close?.()
    },
    RACE_TIMEOUT,
  )

  it(`keeps a subject's index bounded: ${MANY} expired or deleted sessions leave at most ${INDEX_SLACK} entries once listed${
    indexSize === undefined ? ' (index size not reported by this store: only the list is checked)' : ''
  }`, async (context) => {
    const s = await capable(context)
    const subject = newSubject('bounded')
    const expiring = Array.from({ length: MANY / 2 }, newKey)
    const deleted = Array.from({ length: MANY / 2 }, newKey)
    for (let start = 0; start < MANY / 2; start += 250) {
      await together([
        ...expiring
          .slice(start, start + 250)
          .map((key) => () => s.bind(key, creating(subject, '{}', { sessionTtl: 1 }))),
        ...deleted.slice(start, start + 250).map((key) => () => s.bind(key, creating(subject))),
      ])
    }
    const before = await indexSize?.(s, subject)
    // The live half at least (a store may already have pruned sessions of the first batches that expired).
    if (before !== undefined) expect(before).toBeGreaterThanOrEqual(MANY / 2)
    for (let start = 0; start < MANY / 2; start += 250) {
      await together(deleted.slice(start, start + 250).map((key) => () => s.delete(key)))
    }
    await sleep(1_300)
    const survivor = newKey()
    await s.bind(survivor, creating(subject))
    expect(keysOf(await s.listSubject(subject))).toEqual([survivor])
    if (indexSize !== undefined) expect(await indexSize(s, subject)).toBeLessThanOrEqual(INDEX_SLACK)
    expect(await s.revokeSubject(subject, {})).toEqual([survivor])
  }, 120_000)
}
