import type { SessionStore } from '../../src/core/store.js'
import { subjectIndexKey } from '../../src/stores/redis/subject-keys.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { type ConnectedClient, clientKinds, skipReason, storeFor, uniquePrefix } from './clients.js'

// The shared store contract, run unchanged against RedisStore over every client library and
// topology (standalone and a real 3-master Cluster), subjects included.
for (const kind of clientKinds) {
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
