import { expect, it } from 'vitest'
import { RedisStore } from '../../src/stores/redis/index.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, redisKey, text, uniquePrefix } from './clients.js'
import { privateClusterKinds, usePrivateCluster } from './private-cluster-clients.js'
import { cli, ownerOf } from './server.js'

const create = writeOptionsFor('create', 600)

// A node loads each function library at its first "Function not found": the library then goes out
// with the call again, as a pipeline, to the node the client believes serves the key's slot. While
// the slot migrates, that is the source node: it loaded the library and redirected the call (ASK),
// unrun, and the clients do not follow a redirection inside a pipeline whose other reply succeeded.
// The fault suite's slot migration saw this fail reads with 503 (and, after a regenerate had
// already moved the session, sign its user out). A private cluster: the slot is left mid-migration.

describeRedis('a function library loaded while its slot migrates', () => {
  const cluster = usePrivateCluster()

  it.each(privateClusterKinds)('a read the importing node answers still works ($name)', async (kind) => {
    const connected = await cluster.connect(kind)
    const ports = cluster.ports()
    const prefix = uniquePrefix()
    const store = new RedisStore({ client: connected.client, prefix })
    const key = randomKey()
    const name = redisKey(prefix, key)
    await store.write(key, 'user', bytes('ada'), create)
    const source = await ownerOf(ports, name)
    const target = ports.find((port) => port !== source) as number
    const slot = await cli(source, 'CLUSTER', 'KEYSLOT', name)
    const sourceId = await cli(source, 'CLUSTER', 'MYID')
    const targetId = await cli(target, 'CLUSTER', 'MYID')
    // The importing node has no library at all (a node that never served this store), and the
    // session is already there: the source answers ASK for it.
    await cli(target, 'FUNCTION', 'FLUSH')
    await cli(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId)
    await cli(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId)
    await cli(source, 'MIGRATE', '127.0.0.1', String(target), '', '0', '5000', 'KEYS', name)
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
      // Finish the migration, so the next case finds a settled cluster.
      for (const port of ports) await cli(port, 'CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
    }
  })
})
