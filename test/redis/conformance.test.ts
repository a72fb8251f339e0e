import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import type { SessionStore } from '../../src/core/store.js'
import { subjectIndexKey } from '../../src/stores/redis/subject-keys.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import {
  allClientKinds,
  type ClientKind,
  type ConnectedClient,
  redis,
  skipReason,
  storeFor,
  uniquePrefix,
} from './clients.js'

/**
 * ioredis as a user that may not use FUNCTION or FCALL, as on Redis 6.2 (which has neither): the store
 * runs every operation as an EVALSHA script with staged values. The user is created on each server.
 */
function withoutFunctions(cluster: boolean): ClientKind {
  const user = { username: 'ruts-scripts', password: randomBytes(12).toString('hex') }
  const createUser = async (port: number) => {
    const admin = new Redis({ host: '127.0.0.1', port })
    try {
      await admin.call('ACL', 'SETUSER', user.username, 'on', `>${user.password}`, '~*', '&*', '+@all')
      await admin.call('ACL', 'SETUSER', user.username, '-function', '-fcall', '-fcall_ro')
    } finally {
      admin.disconnect()
    }
  }
  return {
    name: `ioredis ${cluster ? 'Cluster' : 'standalone'}, functions denied`,
    cluster,
    async connect() {
      if (!redis.available) throw new Error(redis.reason)
      const nodes = cluster ? redis.cluster : [redis.standalone]
      for (const node of nodes) await createUser(node.port)
      if (!cluster) {
        const client = new Redis({ ...redis.standalone, ...user, maxRetriesPerRequest: 1 })
        return {
          client,
          raw: (_, ...args) => client.call(...(args as [string])),
          close: async () => void client.disconnect(),
        }
      }
      const client = new Cluster(nodes, { redisOptions: { ...user, maxRetriesPerRequest: 1 } })
      return {
        client,
        raw: (_, ...args) => client.call(...(args as [string])),
        close: async () => void client.disconnect(),
      }
    },
  }
}

/** ioredis made with `enableAutoPipelining: true`, on which the store batches itself (see client.ts). */
function autoPipelined(cluster: boolean): ClientKind {
  return {
    name: `ioredis ${cluster ? 'Cluster' : 'standalone'}, enableAutoPipelining`,
    cluster,
    async connect() {
      if (!redis.available) throw new Error(redis.reason)
      const client = cluster
        ? new Cluster(redis.cluster, { enableAutoPipelining: true })
        : new Redis({ ...redis.standalone, enableAutoPipelining: true, maxRetriesPerRequest: 1 })
      return {
        client,
        raw: (_, ...args) => client.call(...(args as [string])),
        close: async () => void client.disconnect(),
      }
    },
  }
}

// The shared store contract, run unchanged against RedisStore over every client library and
// topology (standalone and a real 3-master Cluster), subjects included; and on the script path
// (functions denied) and with auto-pipelining, both with ioredis, standalone and Cluster.
const kinds = [
  ...allClientKinds,
  withoutFunctions(false),
  withoutFunctions(true),
  autoPipelined(false),
  autoPipelined(true),
]
for (const kind of kinds) {
  let connected: ConnectedClient | undefined
  const prefix = uniquePrefix()
  describeStoreConformance({
    name: `RedisStore (${kind.name})`,
    skip: skipReason,
    async create(): Promise<SessionStore> {
      connected = await kind.connect()
      // A generous deadline: the subject cases bind 500 sessions of one subject at once, which on
      // a Cluster queue on the index's node; on the shared 2-core test machine that took over 2 s.
      // The deadline itself is tested in deadline.test.ts.
      return storeFor(connected.client, { prefix, timeout: 10_000 })
    },
    async destroy(store) {
      await store.close?.()
      await connected?.close()
    },
    async subjectIndexSize(_store, subject) {
      const index = subjectIndexKey(prefix, subject)
      return Number(await connected?.raw(index, 'ZCARD', index))
    },
  })
}
