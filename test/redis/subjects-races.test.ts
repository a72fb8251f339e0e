import { expect, it } from 'vitest'
import type { BindOptions, SessionKey } from '../../src/core/store.js'
import { BIND_PLACE } from '../../src/stores/redis/cluster-subject-scripts.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { INDEX_ADD } from '../../src/stores/redis/index-scripts.js'
import { BIND_CREATING } from '../../src/stores/redis/subject-scripts.js'
import { INCREMENT, RENAME, SET_FIELD, WRITE_RENAMING } from '../../src/stores/redis/write-scripts.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, clientKinds, connections, describeRedis, randomKey, sleep, storeFor, uniquePrefix } from './clients.js'
import { gate } from './gate.js'

/** A store deadline for a loaded machine: these tests are about outcomes, not latency. */
const PATIENT = 10_000

// SPEC §13's races on RedisStore, standalone and Cluster. A gate (fault injection on the real client,
// see gate.ts) holds one script call, so a revocation lands exactly between two steps of an
// operation; on a standalone server the held operation is one script and simply runs after it.

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)
const login = (subject: string, extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'create',
  subject,
  meta: '{}',
  sessionTtl: 600,
  ...extra,
})

/** The keys among `keys` that hold a live session bound to `subject` but are not in its list. */
async function aliveButUnlisted(store: RedisStore, subject: string, keys: readonly SessionKey[]) {
  const listed = new Set((await store.listSubject(subject)).map((each) => each.key))
  const bound = await Promise.all(keys.map(async (key) => (await store.subjectOf(key)) as { subject?: string }))
  return keys.filter((key, i) => bound[i]?.subject === subject && !listed.has(key))
}

const live = async (store: RedisStore, key: SessionKey) => (await store.get(key, 'x')).live

describeRedis('RedisStore subjects: races', () => {
  const connect = connections()

  it.each(clientKinds)(
    'a login between its index step and its placement, racing revokeAll, is listed ($name)',
    async (kind) => {
      const { client } = await connect(kind)
      const prefix = uniquePrefix()
      const store = storeFor(client, { prefix, timeout: PATIENT })
      const subject = `user:${randomKey()}`
      const earlier = [randomKey(), randomKey()]
      for (const key of earlier) await store.bind(key, login(subject))
      const held = gate(client, kind.cluster ? BIND_PLACE : BIND_CREATING)
      const late = randomKey()
      const binding = storeFor(held.client, { prefix, timeout: PATIENT }).bind(late, login(subject))
      await held.reached
      expect((await store.revokeSubject(subject, {})).sort()).toEqual([...earlier].sort())
      held.open()
      const result = await binding
      expect(await aliveButUnlisted(store, subject, [late, ...earlier])).toEqual([])
      // The bind lands after the revocation and is listed, as if it had come after it. (On a Cluster
      // the revocation read its entry, found no session yet, and left the entry alone.)
      expect(result).toMatchObject({ status: 'bound' })
      expect(await store.listSubject(subject)).toMatchObject([{ key: late }])
    },
  )

  it.each(clientKinds)('a list while a login is between its steps does not prune its entry ($name)', async (kind) => {
    const { client } = await connect(kind)
    const prefix = uniquePrefix()
    const store = storeFor(client, { prefix, timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const held = gate(client, kind.cluster ? BIND_PLACE : BIND_CREATING)
    const key = randomKey()
    const binding = storeFor(held.client, { prefix, timeout: PATIENT }).bind(key, login(subject))
    await held.reached
    // Cluster: the entry is there and its session is not (yet): not listed, and not pruned either.
    expect(await store.listSubject(subject)).toEqual([])
    held.open()
    expect(await binding).toMatchObject({ status: 'bound' })
    expect(await store.listSubject(subject)).toMatchObject([{ key }])
  })

  const moves = [
    {
      name: 'rename',
      standalone: RENAME,
      run: (store: RedisStore, from: SessionKey, to: SessionKey) => store.rename(from, to),
    },
    {
      name: 'write with renameFrom',
      standalone: WRITE_RENAMING,
      run: (store: RedisStore, from: SessionKey, to: SessionKey) =>
        store.write(to, 'x', bytes('late'), { ...existing, renameFrom: from }),
    },
    {
      name: 'increment with renameFrom',
      standalone: WRITE_RENAMING,
      run: (store: RedisStore, from: SessionKey, to: SessionKey) =>
        store.increment(to, 'n', { ...existing, by: 1, format: 'json', renameFrom: from }),
    },
  ]
  const moveCases = clientKinds.flatMap((kind) =>
    moves.flatMap((move) => (['all', 'keys'] as const).map((target) => ({ kind, move, target }))),
  )

  it.each(moveCases)(
    'a $move.name in flight cannot bring a revoked session back (revoke $target, $kind.name)',
    async ({ kind, move, target }) => {
      const { client } = await connect(kind)
      const prefix = uniquePrefix()
      const store = storeFor(client, { prefix, timeout: PATIENT })
      const subject = `user:${randomKey()}`
      const from = randomKey()
      await store.bind(from, login(subject))
      await store.write(from, 'x', bytes('1'), existing)
      // Cluster: held after TAKE (the session left `from`), before the index learns the target.
      const held = gate(client, kind.cluster ? INDEX_ADD : move.standalone)
      const to = randomKey()
      const moving = move.run(storeFor(held.client, { prefix, timeout: PATIENT }), from, to)
      await held.reached
      const revoked = await store.revokeSubject(subject, target === 'all' ? {} : { keys: [from] })
      expect(revoked).toEqual([from])
      held.open()
      expect(await moving).toEqual({ status: 'missing' })
      expect(await live(store, from)).toBe(false)
      expect(await live(store, to)).toBe(false)
      expect(await store.listSubject(subject)).toEqual([])
    },
  )

  it.each(clientKinds)('a write or increment in flight on a revoked session finds it gone ($name)', async (kind) => {
    const { client } = await connect(kind)
    const prefix = uniquePrefix()
    const store = storeFor(client, { prefix, timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const key = randomKey()
    await store.bind(key, login(subject))
    for (const [script, write] of [
      [SET_FIELD, (gated: RedisStore) => gated.write(key, 'x', bytes('late'), existing)],
      [INCREMENT, (gated: RedisStore) => gated.increment(key, 'n', { ...existing, by: 1, format: 'json' })],
    ] as const) {
      const held = gate(client, script)
      const writing = write(storeFor(held.client, { prefix, timeout: PATIENT }))
      await held.reached
      await store.revokeSubject(subject, {})
      held.open()
      expect(await writing).toEqual({ status: 'missing' })
      expect(await live(store, key)).toBe(false)
    }
  })

  it.each(clientKinds)('many concurrent logins racing revokeAll: none alive and unlisted ($name)', async (kind) => {
    const { client } = await connect(kind)
    const store = storeFor(client, { timeout: PATIENT })
    for (let round = 0; round < 4; round++) {
      const subject = `user:${randomKey()}`
      const anonymous = Array.from({ length: 10 }, () => randomKey())
      await Promise.all(anonymous.map((key) => store.write(key, 'cart', bytes('1'), create)))
      const targets = Array.from({ length: 30 }, () => randomKey())
      const binds = targets.map((key, i) => {
        const from = anonymous[i]
        return store.bind(
          key,
          from === undefined ? login(subject) : login(subject, { session: 'existing', renameFrom: from }),
        )
      })
      await sleep(round)
      const revocations = [store.revokeSubject(subject, {}), sleep(2).then(() => store.revokeSubject(subject, {}))]
      const results = await Promise.allSettled([...binds, ...revocations])
      expect(results.filter((result) => result.status === 'rejected')).toEqual([])
      expect(await aliveButUnlisted(store, subject, [...targets, ...anonymous])).toEqual([])
      // And the list holds only live sessions of the subject.
      for (const each of await store.listSubject(subject))
        expect(await store.subjectOf(each.key)).toMatchObject({ subject })
    }
  })
})
