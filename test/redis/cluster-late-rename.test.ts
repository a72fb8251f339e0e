import { expect, it } from 'vitest'
import type { SessionError } from '../../src/core/errors.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, redisKey, sleep, storeFor, text, uniquePrefix } from './clients.js'
import { privateClusterKinds, usePrivateCluster } from './private-cluster-clients.js'
import { cli, ownerOf } from './server.js'

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)
const login = { session: 'create', meta: '{}', sessionTtl: 600 } as const

// A Cluster rename is two steps on two nodes. When a step's reply comes after the store's deadline
// (the request already failed with a timeout; the client kept the command queued or retried it
// across a failover), the step still runs. Here the late step is made real with CLIENT PAUSE on one
// node: the command waits on the server and runs once the pause ends. The session must then be
// back under its old id, not lost under an id nobody knows. A private cluster: pausing the shared
// one would stall other test files.

const kinds = privateClusterKinds

describeRedis('Cluster rename whose step completes after the store deadline', () => {
  const cluster = usePrivateCluster()

  // A session bound to a subject (SPEC §13) takes an index step between the two; it must come back
  // listed under its old id too.
  const cases = kinds.flatMap((kind) =>
    (['source', 'target'] as const).flatMap((paused) => [
      ...(['rename', 'write with renameFrom'] as const).map((operation) => ({ kind, paused, operation, bound: false })),
      { kind, paused, operation: 'rename' as const, bound: true },
    ]),
  )

  type Case = (typeof cases)[number]

  /**
   * A session at `from`, then a two-step move to `to` (keys on different nodes) whose `paused` node
   * holds its step past the store's 300 ms deadline: the move fails with a timeout and its step runs
   * once the pause ends. Returns a patient store to look afterwards.
   */
  async function lateMove({ kind, paused, operation, bound }: Case, from: string = randomKey()) {
    const connected = await cluster.connect(kind)
    const ports = cluster.ports()
    const prefix = uniquePrefix()
    const store = storeFor(connected.client, { prefix, timeout: 300 })
    let to = randomKey()
    // The two keys on different nodes: a real two-step rename.
    while ((await ownerOf(ports, redisKey(prefix, from))) === (await ownerOf(ports, redisKey(prefix, to)))) {
      to = randomKey()
    }
    const subject = `user:${randomKey()}`
    const patient = storeFor(connected.client, { prefix, timeout: 5000 })
    if (bound) await patient.bind(from, { ...login, subject })
    // Set-up on the patient store, which also loads the functions on the source's node; a first call
    // that loads them can take longer than 300 ms on a loaded machine (it failed CI once). Then one
    // write on the 300 ms store, so its first-call probe is behind it before the move.
    expect(await patient.write(from, 'user', bytes('ada'), bound ? existing : create)).toMatchObject({
      status: 'written',
    })
    // On a loaded machine even that write can miss 300 ms once (its first-call probe rides in it): it is
    // only a warm-up, so it is tried again until one lands within the deadline.
    let warm = await store.write(from, 'warm', bytes('up'), existing).catch((error: unknown) => error)
    for (let attempt = 1; attempt < 5 && (warm as SessionError).code === 'ERR_SESSION_STORE_TIMEOUT'; attempt++) {
      warm = await store.write(from, 'warm', bytes('up'), existing).catch((error: unknown) => error)
    }
    expect(warm).toMatchObject({ status: 'written' })

    const node = await ownerOf(ports, redisKey(prefix, paused === 'source' ? from : to))
    await cli(node, 'CLIENT', 'PAUSE', '1200', 'WRITE')
    const late =
      operation === 'rename'
        ? store.rename(from, to)
        : store.write(to, 'role', bytes('admin'), { ...existing, renameFrom: from })
    const failure = await late.catch((error: unknown) => error)
    expect((failure as SessionError).code).toBe('ERR_SESSION_STORE_TIMEOUT')
    return { from, to, subject, patient }
  }

  it.each(cases)(
    '$kind.name, $operation, $paused node paused past the deadline (bound: $bound): the session stays under its old id',
    async (each) => {
      const { from, to, subject, patient } = await lateMove(each)
      // After the pause the held step runs, and the store puts the session back.
      await sleep(1_200)
      let read = await patient.get(from, 'user')
      for (let attempt = 0; attempt < 20 && !read.live; attempt++) {
        await sleep(100)
        read = await patient.get(from, 'user')
      }
      expect(read.live && text(read.value)).toBe('ada')
      expect(await patient.get(to, 'user')).toEqual({ live: false })
      if (each.bound) expect((await patient.listSubject(subject)).map((entry) => entry.key)).toEqual([from])
    },
  )

  // The same late step, but the browser went on meanwhile: it logged out (deleted the old id). The
  // put-back that follows the late step must not bring the deleted id back. (A write with
  // renameFrom undoes a late step by the same code as a rename; the cases above cover both.)
  it.each(cases.filter((each) => each.operation === 'rename' && !each.bound))(
    '$kind.name, $operation, $paused node paused past the deadline, old id deleted meanwhile: it stays deleted',
    async (each) => {
      const { from, to, patient } = await lateMove(each)
      // The browser still holds the old id and logs out. (With the source paused, the delete
      // waits behind the held TAKE and runs right after it.)
      await patient.delete(from)
      // Every late step and put-back has run well before this.
      await sleep(2_000)
      expect(await patient.get(from, 'user')).toEqual({ live: false })
      expect(await patient.get(to, 'user')).toEqual({ live: false })
    },
  )

  // The same, through the layer: the logout's request first reads the old id while the session is
  // between the steps (the old key holds only the move's tombstone), so the read finds no session.
  // The delete must still reach the store, or the late put-back restores the id after the logout.
  it.each(kinds)('$name, target paused: a logout after a read that found the old id empty retires it', async (kind) => {
    const id = createSessionId()
    const { from, patient } = await lateMove(
      { kind, paused: 'target', operation: 'rename', bound: false },
      sessionKeyOf(id),
    )
    const logout = new SessionLayer({ store: patient }).open(`session=${id}`)
    expect(await logout.get('user')).toBeUndefined()
    expect(await logout.delete()).toBe(false)
    await sleep(2_000)
    expect(await patient.get(from, 'user')).toEqual({ live: false })
  })
})
