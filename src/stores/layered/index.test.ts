import { describeStoreConformance } from '../../testing/store-conformance.js'
import { MemoryStore } from '../memory.js'
import { LayeredStore } from './index.js'

// The shared store contract on the layered store itself, over two MemoryStores. The Redis and
// Postgres combinations and the failure cases run under test/layered/.
const tiers: MemoryStore[] = []
describeStoreConformance({
  name: 'LayeredStore (MemoryStore over MemoryStore)',
  create: () => {
    const hot = new MemoryStore()
    const cold = new MemoryStore()
    tiers.push(hot, cold)
    return new LayeredStore({ hot, cold })
  },
  destroy: async (store) => {
    await store.close?.()
    await Promise.all(tiers.map((tier) => tier.close()))
  },
})
