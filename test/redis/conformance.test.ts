import type { SessionStore } from '../../src/core/store.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { type ConnectedClient, clientKinds, skipReason, storeFor } from './clients.js'

// The shared store contract, run unchanged against RedisStore over every client library and
// topology (standalone and a real 3-master Cluster).
for (const kind of clientKinds) {
  let connected: ConnectedClient | undefined
  describeStoreConformance({
    name: `RedisStore (${kind.name})`,
    skip: skipReason,
    skipCapabilities: { subjects: 'issue 15: RedisStore gets subjects in h15b' },
    async create(): Promise<SessionStore> {
      connected = await kind.connect()
      return storeFor(connected.client)
    },
    async destroy(store) {
      await store.close?.()
      await connected?.close()
    },
  })
}
