import { expect, it } from 'vitest'
import { RedisStore } from '../../src/stores/redis/index.js'
import { everyLibrary } from '../../src/stores/redis/script.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, redisKey, sleep, text, uniquePrefix } from './clients.js'
import { privateClusterKinds, usePrivateCluster } from './private-cluster-clients.js'
import { cli, ownerOf } from './server.js'

const create = writeOptionsFor('create', 600)

// A node loads each function library at its first "Function not found": the library then goes out
// with the call again, as a pipeline, to the node the client believes serves the key's slot. While
// the slot migrates, that is the source node: it loaded the library and redirected the call (ASK),
// unrun, and the clients do not follow a redirection inside a pipeline whose other reply succeeded.
// The fault suite's slot migration saw this fail reads with 503 (and, after a regenerate had
// already moved the session, sign its user out). A private cluster: the slot is left mid-migration.

/**
 * Start moving the slot of the Redis key `name` from the node that serves it to another, whose
 * function libraries are flushed first; `finish` completes the move, for a settled cluster after.
 */
async function migrateToEmptyNode(ports: readonly number[], name: string) {
  const source = await ownerOf(ports, name)
  const target = ports.find((port) => port !== source) as number
  const slot = await cli(source, 'CLUSTER', 'KEYSLOT', name)
  const sourceId = await cli(source, 'CLUSTER', 'MYID')
  const targetId = await cli(target, 'CLUSTER', 'MYID')
  await cli(target, 'FUNCTION', 'FLUSH')
  await cli(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId)
  await cli(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId)
  return {
    source,
    target,
    async finish() {
      for (const port of ports) await cli(port, 'CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
    },
  }
}

describeRedis('function libraries while a slot migrates to a node that has none', () => {
  const cluster = usePrivateCluster()

  it.each(privateClusterKinds)('a read the importing node answers still works ($name)', async (kind) => {
    const connected = await cluster.connect(kind)
    const prefix = uniquePrefix()
    const store = new RedisStore({ client: connected.client, prefix })
    const key = randomKey()
    const name = redisKey(prefix, key)
    await store.write(key, 'user', bytes('ada'), create)
    // The importing node has no library at all (a node that never served this store), and the
    // session is already there: the source answers ASK for it.
    const migration = await migrateToEmptyNode(cluster.ports(), name)
    await cli(migration.source, 'MIGRATE', '127.0.0.1', String(migration.target), '', '0', '5000', 'KEYS', name)
    try {
      // A plain read: its pipeline (HMGET + TIME) is split by the ASK, so the store reads through
      // the read function, which the importing node lacks.
      const read = await store.get(key, 'user')
      expect(read.live ? text(read.value) : 'gone').toBe('ada')
      // A touching read is the read function from the start; a write loads its own library.
      expect(await store.get(key, 'user', { touch: { ttl: 600, threshold: 0 } })).toMatchObject({ live: true })
      expect(await store.write(key, 'user', bytes('grace'), writeOptionsFor('existing', 600))).toMatchObject({
        status: 'written',
      })
      const after = await store.get(key, 'user')
      expect(after.live ? text(after.value) : 'gone').toBe('grace')
    } finally {
      await migration.finish()
    }
  })

  // A regenerate on a Cluster takes the session from its old key and places it at the new one,
  // each a function of its own. Here the new key's slot migrates, and the session's old key is
  // still on the source: a placing function sent as a staged script failed with TRYAGAIN.
  it.each(privateClusterKinds)(
    'a regenerate into the slot moves the session; every master gets every library ($name)',
    async (kind) => {
      const connected = await cluster.connect(kind)
      const ports = cluster.ports()
      const prefix = uniquePrefix()
      const store = new RedisStore({ client: connected.client, prefix })
      const [from, to] = [randomKey(), randomKey()]
      await store.write(from, 'user', bytes('ada'), create)
      const migration = await migrateToEmptyNode(ports, redisKey(prefix, to))
      // The store loads every library again at most once a second, and the write above may just have.
      await sleep(1_100)
      try {
        expect(await store.rename(from, to)).toMatchObject({ status: 'renamed' })
        const moved = await store.get(to, 'user')
        expect(moved.live ? text(moved.value) : 'gone').toBe('ada')
        expect(await store.get(from, 'user')).toMatchObject({ live: false })
        // Loaded at the first "Function not found", on every master: no library is left to load
        // while a slot migrates.
        for (const port of ports) {
          const listing = await cli(port, 'FUNCTION', 'LIST', 'LIBRARYNAME', 'ruts_*')
          expect(listing.split('\n').filter((line) => line === 'library_name')).toHaveLength(everyLibrary().length)
        }
      } finally {
        await migration.finish()
      }
    },
  )
})
