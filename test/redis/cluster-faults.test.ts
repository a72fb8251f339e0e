import { expect, it } from 'vitest'
import { SessionStoreError } from '../../src/core/errors.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { subjectIndexKey } from '../../src/stores/redis/subject-keys.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, redisKey, text, uniquePrefix } from './clients.js'
import { privateClusterKinds, usePrivateCluster } from './private-cluster-clients.js'
import { cli, ownerOf } from './server.js'

// A private 3-master cluster whose target node is made to refuse writes (`min-replicas-to-write 1`
// with no replicas: every write command, including one inside a script, fails with NOREPLICAS).
// That is a real server failure of step 2 of a cross-slot rename, after step 1 took the session.

describeRedis('RedisStore on a Cluster when the target node of a rename refuses the write', () => {
  const cluster = usePrivateCluster()

  it.each(privateClusterKinds)('reports the failure and leaves the session at its old id ($name)', async (kind) => {
    const ports = cluster.ports()
    const { client, close } = await kind.connect(ports)
    const prefix = uniquePrefix()
    const store = new RedisStore({ client, prefix, timeout: 2_000 })
    const source = randomKey()
    const sourceNode = await ownerOf(ports, redisKey(prefix, source))
    let target = randomKey()
    while ((await ownerOf(ports, redisKey(prefix, target))) === sourceNode) target = randomKey()
    const targetNode = await ownerOf(ports, redisKey(prefix, target))
    try {
      await store.write(source, 'a', bytes('1'), writeOptionsFor('create', 600))
      await cli(targetNode, 'CONFIG', 'SET', 'min-replicas-to-write', '1')

      await expect(store.rename(source, target)).rejects.toBeInstanceOf(SessionStoreError)
      const afterRename = await store.get(source, 'a')
      expect(afterRename.live && text(afterRename.value)).toBe('1')
      expect(afterRename.live && afterRename.ttl).toBeGreaterThan(590_000)

      // A prepared regenerate: the move and the field write are one step on the target's node.
      const prepared = { ...writeOptionsFor('existing', 600), renameFrom: source }
      await expect(store.write(target, 'b', bytes('2'), prepared)).rejects.toBeInstanceOf(SessionStoreError)
      const fields = await store.getAll(source)
      expect(fields.live && [...fields.fields.keys()]).toEqual(['a'])
      expect(await store.get(target, 'a')).toEqual({ live: false })
      // A function that may write is refused there as a whole (NOREPLICAS); the store runs such a call
      // as a script, which only fails once it writes, so a read that finds nothing to clean up works.
      expect(await store.getAll(target)).toEqual({ live: false })

      // The node accepts writes again: the same rename goes through, and the old id is dead.
      await cli(targetNode, 'CONFIG', 'SET', 'min-replicas-to-write', '0')
      expect(await store.rename(source, target)).toMatchObject({ status: 'renamed', live: true })
      expect(await store.get(source, 'a')).toEqual({ live: false })
      const moved = await store.get(target, 'a')
      expect(moved.live && text(moved.value)).toBe('1')
    } finally {
      await cli(targetNode, 'CONFIG', 'SET', 'min-replicas-to-write', '0')
      await close()
    }
  })
})

// SPEC §13's `maxSessionsPerSubject` on a Cluster: the sessions beyond the limit are ended after the
// login's placement, on their own nodes. A login whose placement landed must not fail because such
// a node fails or stalls: that would answer 503 for a session already moved to an id nobody learns.

describeRedis('RedisStore on a Cluster when a node holding a session beyond maxSessions fails', () => {
  const cluster = usePrivateCluster()
  // A node that refuses writes (NOREPLICAS) answers at once. One that does not answer at all holds the
  // bind up to the store's deadline, which then fails it: a revocation sent there may still land, and
  // a bind must report every session it ended (docs/subjects.md).
  const faults = [
    {
      name: 'refuses writes',
      on: ['CONFIG', 'SET', 'min-replicas-to-write', '1'],
      off: ['CONFIG', 'SET', 'min-replicas-to-write', '0'],
    },
  ]
  const cases = privateClusterKinds.flatMap((kind) =>
    faults.map((fault) => ({ kind, fault, name: `${kind.name}, ${fault.name}` })),
  )

  it.each(cases)('a login that moved the session still binds it ($name)', async ({ kind, fault }) => {
    const ports = cluster.ports()
    const { client, close } = await kind.connect(ports)
    const prefix = uniquePrefix()
    const store = new RedisStore({ client, prefix, timeout: 2_000 })
    const subject = `user:${randomKey()}`
    const indexNode = await ownerOf(ports, subjectIndexKey(prefix, subject))
    const elsewhere = async (node: number) => {
      let key = randomKey()
      while ((await ownerOf(ports, redisKey(prefix, key))) === node) key = randomKey()
      return key
    }
    // The older session is on a node of its own; the index, the login's session and its new id are not.
    const older = await elsewhere(indexNode)
    const olderNode = await ownerOf(ports, redisKey(prefix, older))
    const [from, to] = [await elsewhere(olderNode), await elsewhere(olderNode)]
    const login = { session: 'existing', subject, meta: '{}', sessionTtl: 600 } as const
    try {
      await store.bind(older, { ...login, session: 'create' })
      await store.write(from, 'cart', bytes('3'), writeOptionsFor('create', 600))
      await cli(olderNode, ...fault.on)

      const started = performance.now()
      const bound = await store.bind(to, { ...login, renameFrom: from, maxSessions: 1 })
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(bound).toMatchObject({ status: 'bound', ended: [] })
      const moved = await store.get(to, 'cart')
      expect(moved.live && text(moved.value)).toBe('3')
      expect(await store.get(from, 'cart')).toEqual({ live: false })

      // The node is back: the subject's next bind ends the older session.
      await cli(olderNode, ...fault.off)
      const again = await store.bind(randomKey(), { ...login, renameFrom: to, maxSessions: 1 })
      expect(again.status).toBe('kept')
      expect(await store.get(older, 'cart')).toEqual({ live: false })
      expect((await store.listSubject(subject)).map((each) => each.key)).toEqual([to])
    } finally {
      await cli(olderNode, ...fault.off)
      await close()
    }
  })
})
