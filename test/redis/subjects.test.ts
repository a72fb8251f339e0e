import { createHash } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { afterAll, expect, it } from 'vitest'
import type { BindOptions } from '../../src/core/store.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { subjectIndexKey } from '../../src/stores/redis/subject-keys.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import {
  bytes,
  clientKinds,
  connections,
  describeRedis,
  randomKey,
  redis,
  redisKey,
  sleep,
  storeFor,
  text,
  uniquePrefix,
} from './clients.js'

/** A store deadline for a loaded machine: these tests are about outcomes, not latency. */
const PATIENT = 10_000

// SPEC §13 on RedisStore, over every client library and topology: what a bind does to the session
// and to the subject's index, what list and revoke see, and the key layout (one index slot on a
// Cluster, no user id in a key name).

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)
const login = (subject: string, meta = '{}', extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'create',
  subject,
  meta,
  sessionTtl: 600,
  ...extra,
})
const rebind = (from: string, subject: string, meta = '{}', extra: Partial<BindOptions> = {}): BindOptions =>
  login(subject, meta, { session: 'existing', renameFrom: from, ...extra })

const keysOf = async (store: RedisStore, subject: string) => (await store.listSubject(subject)).map((each) => each.key)

// One plain connection per server, for looking at keys node by node.
const nodes = new Map<number, Redis>()
function node(port: number): Redis {
  const existingNode = nodes.get(port) ?? new Redis({ host: '127.0.0.1', port })
  nodes.set(port, existingNode)
  return existingNode
}
afterAll(() => {
  for (const each of nodes.values()) each.disconnect()
})
const portsOf = (cluster: boolean) =>
  redis.available ? (cluster ? redis.cluster.map((each) => each.port) : [redis.standalone.port]) : []

describeRedis('RedisStore subjects', () => {
  const connect = connections()

  it.concurrent.each(clientKinds)('bind, keep, move, rename, list and delete ($name)', async (kind) => {
    const connected = await connect(kind)
    const prefix = uniquePrefix()
    const store = storeFor(connected.client, { prefix, timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const a = randomKey()
    const created = await store.bind(a, login(subject, '{"device":"A"}'))
    expect(created).toMatchObject({ status: 'bound', touched: true, ended: [] })
    expect(await store.subjectOf(a)).toMatchObject({ live: true, subject, meta: '{"device":"A"}' })
    expect(await store.bind(randomKey(), login(subject))).toMatchObject({ status: 'bound' })

    // An anonymous session with data logs in: it moves to the new key, with its fields.
    const anonymous = randomKey()
    await store.write(anonymous, 'cart', bytes('3 items'), create)
    const b = randomKey()
    expect(await store.bind(b, rebind(anonymous, subject, '{"device":"B"}'))).toMatchObject({ status: 'bound' })
    expect(await store.get(anonymous, 'cart')).toEqual({ live: false })
    const cart = await store.get(b, 'cart')
    expect(cart.live && text(cart.value)).toBe('3 items')

    // The same subject again only replaces meta: same key, the offered key stays unused.
    const unused = randomKey()
    expect(await store.bind(unused, rebind(a, subject, '{"device":"A2"}'))).toMatchObject({ status: 'kept' })
    expect(await store.get(unused, 'cart')).toEqual({ live: false })
    expect(await store.subjectOf(a)).toMatchObject({ subject, meta: '{"device":"A2"}' })

    // Renames (regenerate), plain or with a write, keep the subject and the list follows the key.
    const c = randomKey()
    expect(await store.rename(b, c)).toMatchObject({ status: 'renamed' })
    const d = randomKey()
    expect(await store.write(d, 'x', bytes('1'), { ...existing, renameFrom: c })).toMatchObject({ status: 'written' })
    expect(await store.subjectOf(d)).toMatchObject({ subject, meta: '{"device":"B"}' })
    const listed = await store.listSubject(subject)
    expect(listed.map((each) => each.key)).toHaveLength(3)
    expect(listed[0]).toMatchObject({ key: d, meta: '{"device":"B"}' })
    expect(listed.map((each) => each.key)).toContain(a)
    expect(listed.map((each) => each.key)).not.toContain(b)
    for (const each of listed) {
      expect(each.expiresAt).toBeGreaterThan(Date.now() + 590_000)
      expect(each.lastActiveAt).toBeGreaterThanOrEqual(each.createdAt)
    }
    // The entries the renames left behind are pruned by that list: the index holds the live three.
    const index = subjectIndexKey(prefix, subject)
    expect(Number(await connected.raw(index, 'ZCARD', index))).toBe(3)

    // Another subject: the session moves again and leaves this subject's list.
    const other = `user:${randomKey()}`
    const e = randomKey()
    expect(await store.bind(e, rebind(d, other))).toMatchObject({ status: 'bound' })
    // Its entry left this subject's index with the move, not when its score passes (a lifetime away).
    expect(Number(await connected.raw(index, 'ZCARD', index))).toBe(2)
    expect(await keysOf(store, other)).toEqual([e])
    expect(await keysOf(store, subject)).not.toContain(d)
    expect(await keysOf(store, subject)).toHaveLength(2)

    // delete and expire(0) take a session out of its subject.
    expect(await store.delete(a)).toBe(true)
    expect(await keysOf(store, subject)).toHaveLength(1)
    const [last] = await keysOf(store, subject)
    await store.expire(last as string, 0)
    expect(await store.listSubject(subject)).toEqual([])
    expect(await store.subjectOf(a)).toEqual({ live: false })
    expect((await store.subjectOf(e)).live && (await store.subjectOf(e))).toMatchObject({ subject: other })
  })

  it.concurrent.each(clientKinds)(
    'revoking counts each session once: not again through an old move to it, nor for a move long done ($name)',
    async (kind) => {
      // The store timeout bounds how long a move may still be landing; past it, a move's empty target
      // is a session that ended earlier, not one this revocation stopped.
      const timeout = 1_500
      const store = storeFor((await connect(kind)).client, { timeout })
      const subject = `user:${randomKey()}`
      const other = `user:${randomKey()}`
      // Logged in, then regenerated: one session, reached through its entry and the old key's move.
      const a = randomKey()
      await store.bind(a, login(subject))
      const b = randomKey()
      expect(await store.rename(a, b)).toMatchObject({ status: 'renamed' })
      // A second session switched to another subject, which then revoked it.
      const c = randomKey()
      await store.bind(c, login(subject))
      const d = randomKey()
      expect(await store.bind(d, rebind(c, other))).toMatchObject({ status: 'bound' })
      expect(await store.revokeSubject(other, {})).toEqual([d])
      // Right after a regenerate, the move is still young (it could be landing): one session all the same.
      const young = `user:${randomKey()}`
      const e = randomKey()
      await store.bind(e, login(young))
      const f = randomKey()
      expect(await store.rename(e, f)).toMatchObject({ status: 'renamed' })
      const ended = await store.revokeSubject(young, {})
      expect(ended).toHaveLength(1)
      expect([e, f]).toContain(ended[0])
      expect(await store.get(f, 'x')).toEqual({ live: false })
      await sleep(timeout + 100)
      expect(await store.revokeSubject(subject, {})).toEqual([b])
      expect(await store.get(b, 'x')).toEqual({ live: false })
      expect(await store.revokeSubject(subject, {})).toEqual([])
    },
  )

  it.concurrent.each(clientKinds)(
    'orders by last activity: writes and lifetime refreshes count ($name)',
    async (kind) => {
      const store = storeFor((await connect(kind)).client, { timeout: PATIENT })
      const subject = `user:${randomKey()}`
      const [a, b, c] = [randomKey(), randomKey(), randomKey()]
      for (const key of [a, b, c]) {
        await store.bind(key, login(subject))
        await sleep(5)
      }
      expect(await keysOf(store, subject)).toEqual([c, b, a])
      await store.write(a, 'x', bytes('1'), existing)
      expect(await keysOf(store, subject)).toEqual([a, c, b])
      await sleep(5)
      // A read that slides the expiry counts; a plain read or subjectOf does not.
      await store.get(b, 'x', { touch: { ttl: 900, threshold: 60 } })
      await store.get(c, 'x')
      await store.subjectOf(c)
      expect(await keysOf(store, subject)).toEqual([b, a, c])
    },
  )

  it.concurrent.each(clientKinds)(
    'revokes given keys, all but one, or all; only this subject’s ($name)',
    async (kind) => {
      const store = storeFor((await connect(kind)).client, { timeout: PATIENT })
      const [subject, other] = [`user:${randomKey()}`, `user:${randomKey()}`]
      const mine = [randomKey(), randomKey(), randomKey(), randomKey()]
      for (const key of mine) await store.bind(key, login(subject))
      const theirs = randomKey()
      await store.bind(theirs, login(other))
      const unbound = randomKey()
      await store.write(unbound, 'x', bytes('1'), create)
      const [k0, k1, k2, k3] = mine as [string, string, string, string]

      expect(await store.revokeSubject(subject, { keys: [k0, theirs, unbound, randomKey()] })).toEqual([k0])
      expect((await store.get(theirs, 'x')).live).toBe(true)
      expect((await store.get(unbound, 'x')).live).toBe(true)
      expect((await store.get(k0, 'x')).live).toBe(false)
      expect((await store.revokeSubject(subject, { except: k1 })).sort()).toEqual([k2, k3].sort())
      expect(await keysOf(store, subject)).toEqual([k1])
      expect(await store.revokeSubject(subject, {})).toEqual([k1])
      expect(await store.listSubject(subject)).toEqual([])
      expect(await keysOf(store, other)).toEqual([theirs])
      // A revoked key is absent for every operation, and writes cannot bring it back.
      expect(await store.write(k1, 'x', bytes('2'), existing)).toEqual({ status: 'missing' })
      expect(await store.subjectOf(k1)).toEqual({ live: false })
    },
  )

  it.concurrent.each(clientKinds)('maxSessions ends the least recently active beyond it ($name)', async (kind) => {
    const store = storeFor((await connect(kind)).client, { timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const [a, b, c, d] = [randomKey(), randomKey(), randomKey(), randomKey()]
    await store.bind(a, login(subject))
    await sleep(5)
    await store.bind(b, login(subject))
    await sleep(5)
    await store.write(a, 'x', bytes('1'), existing)
    await sleep(5)
    expect(await store.bind(c, login(subject, '{}', { maxSessions: 2 }))).toMatchObject({ status: 'bound', ended: [b] })
    expect((await store.get(b, 'x')).live).toBe(false)
    expect((await keysOf(store, subject)).sort()).toEqual([a, c].sort())
    // A kept bind enforces the limit too, never ending the session it binds.
    await sleep(5)
    await store.bind(d, login(subject))
    const kept = await store.bind(randomKey(), rebind(a, subject, '{}', { maxSessions: 1 }))
    expect(kept).toMatchObject({ status: 'kept' })
    expect(kept.status === 'kept' && [...kept.ended].sort()).toEqual([c, d].sort())
    expect(await keysOf(store, subject)).toEqual([a])
  })

  it.concurrent.each(clientKinds)('expired sessions leave the list without a cleanup job ($name)', async (kind) => {
    const store = storeFor((await connect(kind)).client, { timeout: PATIENT })
    const subject = `user:${randomKey()}`
    const [short, long] = [randomKey(), randomKey()]
    await store.bind(long, login(subject))
    // A 2 s field in a bound session expires alone (per-field TTL without HEXPIRE on Redis 7.0).
    await store.write(long, 'flash', bytes('hi'), writeOptionsFor('existing', 2, 2))
    await store.bind(short, login(subject, '{}', { sessionTtl: 2 }))
    expect((await keysOf(store, subject)).sort()).toEqual([short, long].sort())
    await sleep(2_100)
    expect(await keysOf(store, subject)).toEqual([long])
    expect(await store.get(long, 'flash')).toMatchObject({ live: true, value: undefined })
  })

  it.each([false, true])(
    'works under an ioredis keyPrefix, which the client puts before every key it sends (Cluster: %s)',
    async (cluster) => {
      if (!redis.available) return
      const keyPrefix = `kp${randomKey().slice(0, 6)}:`
      const client = cluster ? new Cluster(redis.cluster, { keyPrefix }) : new Redis({ ...redis.standalone, keyPrefix })
      try {
        const store = storeFor(client, { timeout: PATIENT })
        const subject = `user:${randomKey()}`
        const [a, b, c] = [randomKey(), randomKey(), randomKey()]
        await store.bind(a, login(subject))
        // Activity is kept in server milliseconds: steps in one millisecond would tie for "least recent".
        await sleep(3)
        await store.bind(b, login(subject))
        const renamed = randomKey()
        await store.rename(b, renamed)
        expect((await keysOf(store, subject)).sort()).toEqual([a, renamed].sort())
        expect(await store.bind(c, login(subject, '{}', { maxSessions: 2 }))).toMatchObject({ ended: [a] })
        expect(await store.revokeSubject(subject, {})).toHaveLength(2)
        expect(await store.listSubject(subject)).toEqual([])
      } finally {
        client.disconnect()
      }
    },
  )

  it.each(clientKinds)(
    'layout: no subject in a key name, one index slot, every key with a TTL ($name)',
    async (kind) => {
      const prefix = uniquePrefix()
      const store = storeFor((await connect(kind)).client, { prefix, timeout: PATIENT })
      const subject = `alice@example.com-${randomKey()}`
      const sessions = Array.from({ length: 12 }, () => randomKey())
      for (const key of sessions) await store.bind(key, login(subject))
      const hash = createHash('sha256').update(subject).digest('base64url')
      const index = `${prefix}subject:{${hash}}`
      const found: { key: string; port: number }[] = []
      for (const port of portsOf(kind.cluster)) {
        for (const key of await node(port).keys(`${prefix}*`)) {
          found.push({ key, port })
          expect(key).not.toContain(subject)
          expect(await node(port).pttl(key)).toBeGreaterThan(0)
        }
      }
      expect(found.map((each) => each.key).sort()).toEqual(
        [index, ...sessions.map((key) => redisKey(prefix, key))].sort(),
      )
      expect(found.filter((each) => each.key === index)).toHaveLength(1)
      if (kind.cluster) {
        // The sessions of one subject are spread over the nodes; its index is one key in one slot.
        expect(new Set(found.filter((each) => each.key !== index).map((each) => each.port)).size).toBeGreaterThan(1)
      }
      const holder = found.find((each) => each.key === index)?.port ?? 0
      expect(await node(holder).zcard(index)).toBe(12)
      expect((await node(holder).zrange(index, 0, -1)).sort()).toEqual([...sessions].sort())
    },
  )
})
