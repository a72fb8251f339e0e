import { expect, it } from 'vitest'
import type { WriteOptions } from '../../src/core/store.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import {
  bytes,
  clientKinds,
  connections,
  describeRedis,
  randomKey,
  redisKey,
  storeFor,
  uniquePrefix,
} from './clients.js'

const HOUR = 3600
const LIFETIME = 100
const create: WriteOptions = {
  mode: 'update',
  session: 'create',
  fieldTtl: HOUR,
  sessionTtl: 30,
  maxLifetime: LIFETIME,
}
const existing = writeOptionsFor('existing', HOUR)
const touch = { touch: { ttl: HOUR, threshold: 60 } }

/** The result's ttl was pushed up to the `maxLifetime` cap and not beyond it. */
function expectAtDeadline(result: object): void {
  const ttl = 'ttl' in result ? Number(result.ttl) : Number.NaN
  expect(ttl).toBeLessThanOrEqual(LIFETIME * 1000)
  expect(ttl).toBeGreaterThan((LIFETIME - 10) * 1000)
}

// The scripts read the absolute deadline (`m:deadline`) together with other entries: from one
// HMGET, from the HGETALL of getAll, from the source of a rename, from a session taken on another
// Cluster node. Every way of extending a session must still stop at it.
describeRedis('RedisStore keeps the maxLifetime deadline on every path that extends a session', () => {
  const connect = connections()

  it.concurrent.each(clientKinds)('reads, writes, renames and moves stop at the deadline ($name)', async (kind) => {
    const connected = await connect(kind)
    const prefix = uniquePrefix()
    const store = storeFor(connected.client, { prefix })
    const pttl = async (key: string) =>
      Number(await connected.raw(redisKey(prefix, key), 'PTTL', redisKey(prefix, key)))

    // A touching read.
    const read = randomKey()
    await store.write(read, 'a', bytes('1'), create)
    const got = await store.get(read, 'a', touch)
    expect(got).toMatchObject({ live: true, touched: true })
    expectAtDeadline(got)
    expect(await store.get(read, 'a', touch)).toMatchObject({ live: true, touched: false })

    // A touching getAll.
    const all = randomKey()
    await store.write(all, 'a', bytes('1'), create)
    const session = await store.getAll(all, touch)
    expect(session).toMatchObject({ live: true, touched: true })
    expectAtDeadline(session)
    expectAtDeadline(await store.expire(all, HOUR))

    // A write after a rename (Cluster: the session was recreated from a TAKE).
    const [from, to] = [randomKey(), randomKey()]
    await store.write(from, 'a', bytes('1'), create)
    expect(await store.rename(from, to)).toMatchObject({ status: 'renamed' })
    const written = await store.write(to, 'b', bytes('2'), existing)
    expect(written).toMatchObject({ status: 'written', touched: true })
    expectAtDeadline(written)

    // A write that moves the session first.
    const [source, target] = [randomKey(), randomKey()]
    await store.write(source, 'a', bytes('1'), create)
    const moved = await store.write(target, 'b', bytes('2'), { ...existing, renameFrom: source })
    expect(moved).toMatchObject({ status: 'written', touched: true })
    expectAtDeadline(moved)
    expect(await store.get(target, 'a', touch)).toMatchObject({ live: true, touched: false })

    for (const key of [read, all, to, target]) {
      expect(await pttl(key)).toBeLessThanOrEqual(LIFETIME * 1000)
      expect(await pttl(key)).toBeGreaterThan((LIFETIME - 10) * 1000)
    }
  })
})
