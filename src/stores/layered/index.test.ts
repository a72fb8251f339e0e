import { describeStoreConformance } from '../../testing/store-conformance.js'
import { MemoryStore } from '../memory.js'
import { LayeredStore } from './index.js'

// The shared store contract on the layered store itself, over two MemoryStores, with a second
// instance over the same tiers standing for another process. The Redis and Postgres combinations and
// the failure cases run under test/layered/ and test/hardening/.
const hot = new MemoryStore()
const cold = new MemoryStore()
const twins: LayeredStore[] = []
describeStoreConformance({
  name: 'LayeredStore (MemoryStore over MemoryStore)',
  create: () => new LayeredStore({ hot, cold }),
  twin: () => {
    const twin = new LayeredStore({ hot, cold })
    twins.push(twin)
    return twin
  },
  destroy: async (store) => {
    await Promise.all([store, ...twins].map((each) => each.close?.()))
    await Promise.all([hot.close(), cold.close()])
  },
})
