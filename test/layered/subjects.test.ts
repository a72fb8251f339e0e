import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  type BindOptions,
  type SessionKey,
  type SessionStore,
  storeSupports,
  type WriteOptions,
} from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import type { PostgresStore } from '../../src/stores/postgres/index.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { skipReason as postgresSkip, TEST_TIMEOUT, testPool, testStore } from '../postgres/helpers.js'
import { type ConnectedClient, clientKinds, skipReason as redisSkip, storeFor, uniquePrefix } from '../redis/clients.js'
import { bytes, fieldText, hanging, newKey } from './helpers.js'

// Subjects on a LayeredStore with Redis hot and Postgres cold, and two instances on the same Redis
// prefix and Postgres tables (two processes). Instance B's tiers are wrapped so that instance A's
// revocation runs at a chosen point of B's call: between B's cold step and its hot step, where a
// write, a move or a bind in flight could bring the revoked session back into hot.
const HOUR = 3600
const existing: WriteOptions = { mode: 'update', session: 'existing', fieldTtl: HOUR, sessionTtl: HOUR }
const created: WriteOptions = { ...existing, session: 'create' }
const hotOnly: WriteOptions = { ...existing, extra: { strategy: 'hot-only' } }
const coldOnly: WriteOptions = { ...existing, extra: { strategy: 'cold-only' } }
const binding = (subject: string, renameFrom?: SessionKey, extra: Partial<BindOptions> = {}): BindOptions => ({
  ...(renameFrom === undefined ? { session: 'create' } : { session: 'existing', renameFrom }),
  subject,
  meta: '{}',
  sessionTtl: HOUR,
  ...extra,
})
const subjectName = (): string => `user:{${newKey().slice(0, 8)}}`
type SubjectLayered = LayeredStore &
  Required<Pick<SessionStore, 'bind' | 'subjectOf' | 'listSubject' | 'revokeSubject'>>

type Method = 'write' | 'increment' | 'rename' | 'bind' | 'delete'
/** Runs `action` once, the first time `method` is called on `tier` (before or after the inner call). */
interface Interception {
  tier: 'hot' | 'cold'
  method: Method
  when: 'before' | 'after'
  action: () => Promise<unknown>
}

/** `inner` with every method, and `interception` (when it is armed) run around one of them. */
function intercepted(
  inner: SessionStore,
  tier: 'hot' | 'cold',
  armed: { current?: Interception | undefined },
): SessionStore {
  const store = { name: inner.name } as SessionStore
  const names = ['get', 'getAll', 'write', 'remove', 'delete', 'expire', 'rename', 'increment', 'take'] as const
  for (const name of [...names, 'bind', 'subjectOf', 'listSubject', 'revokeSubject'] as const) {
    const method = inner[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (method === undefined) continue
    ;(store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const due = armed.current
      if (due === undefined || due.tier !== tier || due.method !== name) return method.apply(inner, args)
      armed.current = undefined
      if (due.when === 'before') await due.action()
      const result = await method.apply(inner, args)
      if (due.when === 'after') await due.action()
      return result
    }
  }
  return store
}

describe.skipIf(postgresSkip ?? redisSkip)('LayeredStore subjects (Redis over Postgres, two instances)', () => {
  let client: ConnectedClient
  let prefix: string
  let cold: PostgresStore
  let rawHot: RedisStore
  let a: SubjectLayered
  let b: SubjectLayered
  const armed: { current?: Interception | undefined } = {}
  const hotFailures: string[] = []
  const instances: LayeredStore[] = []
  const layered = (hot: SessionStore, coldTier: SessionStore, options = {}): SubjectLayered => {
    const store = new LayeredStore({
      hot,
      cold: coldTier,
      hotTimeout: 2_000,
      repairInterval: 50,
      onError: (error, context) => void hotFailures.push(`${context.operation}: ${error.code}`),
      ...options,
    })
    instances.push(store)
    // Cold (Postgres) has the capability, so the layered store declares it.
    expect(storeSupports(store, 'subjects')).toBe(true)
    return store as SubjectLayered
  }

  beforeAll(async () => {
    const kind = clientKinds.find((each) => each.name === 'ioredis standalone')
    if (kind === undefined) throw new Error('no ioredis client kind')
    client = await kind.connect()
    prefix = uniquePrefix()
    cold = await testStore({ pool: testPool({ max: 6, connectionTimeoutMillis: 10_000 }), timeout: TEST_TIMEOUT })
    rawHot = storeFor(client.client, { prefix })
    a = layered(storeFor(client.client, { prefix }), cold)
    b = layered(intercepted(storeFor(client.client, { prefix }), 'hot', armed), intercepted(cold, 'cold', armed))
  })
  afterAll(async () => {
    await Promise.all(instances.map((each) => each.close()))
    await client?.close()
  })

  /** A session bound to `subject` (unless `unbound`), with a field in both tiers and a hot-only one, read by B. */
  async function warmSession(subject: string, unbound = false): Promise<SessionKey> {
    const start = newKey()
    await a.write(start, 'user', bytes('ada'), created)
    let key = start
    if (!unbound) {
      key = newKey()
      expect(await a.bind(key, binding(subject, start))).toMatchObject({ status: 'bound' })
    }
    await a.write(key, 'cart', bytes('3 items'), hotOnly)
    expect(fieldText(await b.get(key, 'user'))).toBe('ada')
    await vi.waitFor(async () => expect(fieldText(await rawHot.get(key, 'user'))).toBe('ada'))
    return key
  }

  /** Neither tier holds the sessions, neither instance serves them, the subject lists none of them. */
  async function expectEnded(subject: string, keys: readonly SessionKey[]): Promise<void> {
    for (const key of keys) {
      expect(await rawHot.getAll(key), 'hot tier').toEqual({ live: false })
      expect(await cold.getAll(key), 'cold tier').toEqual({ live: false })
      for (const instance of [a, b]) {
        expect(await instance.get(key, 'user')).toEqual({ live: false })
        expect(await instance.get(key, 'cart')).toEqual({ live: false })
      }
    }
    const listed = (await a.listSubject(subject)).map((each) => each.key)
    expect(listed.filter((key) => keys.includes(key))).toEqual([])
  }

  // Each case: B's call is in flight on a session of the subject when A revokes the subject, at the
  // point named; afterwards nothing of the session may be left in either tier. `moves` cases move
  // the session to a new key first: without the move's guard (src/stores/layered/moves.ts), B moved
  // the hot copy to the new key after A had deleted it there, and both instances served it.
  const cases: {
    name: string
    at: Omit<Interception, 'action'>
    call: (key: SessionKey, to: SessionKey, subject: string) => Promise<unknown>
    unbound?: boolean
  }[] = [
    {
      name: 'a write-through write (revoked between its cold and hot steps)',
      at: { tier: 'cold', method: 'write', when: 'after' },
      call: (key) => b.write(key, 'user', bytes('late'), existing),
    },
    {
      name: 'a cold-only write',
      at: { tier: 'cold', method: 'write', when: 'after' },
      call: (key) => b.write(key, 'audit', bytes('late'), coldOnly),
    },
    {
      name: 'a hot-only write (revoked just before it reaches hot)',
      at: { tier: 'hot', method: 'write', when: 'before' },
      call: (key) => b.write(key, 'cart', bytes('late'), hotOnly),
    },
    {
      name: 'an increment',
      at: { tier: 'cold', method: 'increment', when: 'after' },
      call: (key) => b.increment(key, 'n', { ...existing, by: 1, format: 'json' }),
    },
    {
      name: 'a write consuming a prepared id (moves)',
      at: { tier: 'cold', method: 'write', when: 'after' },
      call: (key, to) => b.write(to, 'user', bytes('late'), { ...existing, renameFrom: key }),
    },
    {
      name: 'a hot-only write consuming a prepared id (moves)',
      at: { tier: 'cold', method: 'rename', when: 'after' },
      call: (key, to) => b.write(to, 'cart', bytes('late'), { ...hotOnly, renameFrom: key }),
    },
    {
      name: 'an increment consuming a prepared id (moves)',
      at: { tier: 'cold', method: 'increment', when: 'after' },
      call: (key, to) => b.increment(to, 'n', { ...existing, by: 1, format: 'json', renameFrom: key }),
    },
    {
      name: 'a regenerate (moves)',
      at: { tier: 'cold', method: 'rename', when: 'after' },
      call: (key, to) => b.rename(key, to),
    },
    {
      name: 'a login to the subject, binding an unbound session (moves)',
      at: { tier: 'cold', method: 'bind', when: 'after' },
      call: (key, to, subject) => b.bind(to, binding(subject, key)),
      unbound: true,
    },
  ]
  for (const each of cases) {
    it(`${each.name} never brings a revoked session back into either tier`, async () => {
      const subject = subjectName()
      const key = await warmSession(subject, each.unbound)
      const to = newKey()
      let revoked: SessionKey[] | undefined
      const revoke = async () => {
        revoked = await a.revokeSubject(subject, {})
      }
      armed.current = { ...each.at, action: revoke }
      await each.call(key, to, subject)
      expect(armed.current).toBeUndefined()
      expect(revoked).toHaveLength(1)
      await expectEnded(subject, [key, to])
    })
  }

  it('ends the sessions a login trims with maxSessions in both tiers, for both instances', async () => {
    const subject = subjectName()
    const old = await warmSession(subject)
    const other = await warmSession(subject)
    await a.write(other, 'user', bytes('recent'), existing)
    const bound = await b.bind(newKey(), binding(subject, undefined, { maxSessions: 2 }))
    expect(bound).toMatchObject({ status: 'bound', ended: [old] })
    await expectEnded(subject, [old])
    expect(await a.listSubject(subject)).toHaveLength(2)
  })

  it('fails closed, changing nothing, when hot does not answer before a revocation or a login', async () => {
    const hung = hanging(storeFor(client.client, { prefix }))
    const c = layered(hung, cold, { hotTimeout: 100 })
    const subject = subjectName()
    const key = await warmSession(subject)
    hung.hung = true
    await expect(c.revokeSubject(subject, {})).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    await expect(c.bind(newKey(), binding(subjectName(), key))).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    // A login that creates its session moves nothing, but with maxSessions it would end `key`.
    await expect(c.bind(newKey(), binding(subject, undefined, { maxSessions: 1 }))).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE',
    })
    hung.hung = false
    expect((await a.listSubject(subject)).map((each) => each.key)).toEqual([key])
    expect(await a.subjectOf(key)).toMatchObject({ live: true, subject })
    expect(hotFailures.filter((failure) => !failure.startsWith('lease'))).toEqual([])
    hotFailures.length = 0
  })

  it('when hot fails after cold revoked: rejects, this instance reads cold only, repair ends the hot copy', async () => {
    const plain = storeFor(client.client, { prefix })
    let failing: SessionKey | undefined
    // Deleting one session's hot copy fails (the probe and the leases still go through).
    const flaky = intercepted(plain, 'hot', {})
    flaky.delete = (target: SessionKey) =>
      target === failing ? Promise.reject(new Error('injected backend failure')) : plain.delete(target)
    const c = layered(flaky, cold)
    const subject = subjectName()
    const key = await warmSession(subject)
    expect(fieldText(await c.get(key, 'user'))).toBe('ada')
    failing = key
    await expect(c.revokeSubject(subject, {})).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' })
    // Cold did revoke; this instance no longer trusts hot for the session.
    expect(await c.get(key, 'user')).toEqual({ live: false })
    // Another instance may serve the stale hot copy until the repair loop deletes it (the documented
    // window of a call that rejected after reaching cold); once hot takes the delete, it is gone.
    failing = undefined
    await vi.waitFor(async () => expect(await rawHot.getAll(key)).toEqual({ live: false }), { timeout: 5_000 })
    await expectEnded(subject, [key])
    hotFailures.length = 0
  })

  it('round trips: cold one call per subject call; hot 5 calls per bind that moves, 3 per ended session', async () => {
    const hot = countingStore(storeFor(client.client, { prefix }))
    const coldCounted = countingStore(cold)
    const c = layered(hot, coldCounted)
    const subject = subjectName()
    const count = async (work: () => Promise<unknown>) => {
      hot.reset()
      coldCounted.reset()
      await work()
      return { hot: hot.total(), cold: coldCounted.total() }
    }
    const guest = newKey()
    await c.write(guest, 'user', bytes('ada'), created)
    const key = newKey()
    // Guard and old lease (2, in parallel), bind; old lease, move, guard (3).
    expect(await count(() => c.bind(key, binding(subject, guest)))).toEqual({ hot: 5, cold: 1 })
    expect(await count(() => c.bind(newKey(), binding(subject)))).toEqual({ hot: 0, cold: 1 })
    expect(await count(() => c.subjectOf(key))).toEqual({ hot: 0, cold: 1 })
    expect(await count(() => c.listSubject(subject))).toEqual({ hot: 0, cold: 1 })
    // A probe, then for each ended session: a move's guard read, its lease and its hot copy.
    expect(await count(() => c.revokeSubject(subject, {}))).toEqual({ hot: 7, cold: 1 })
  })

  afterAll(() => expect(hotFailures).toEqual([]))
})
