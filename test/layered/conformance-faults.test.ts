import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { delayed, hanging } from './helpers.js'

// The whole store contract must hold when hot is useless: failing on every call, or never answering
// (each hot call then costs at most hotTimeout). And with both tiers answering after random delays,
// so that concurrent operations interleave at the tiers as they would over a network.
function layeredOver(makeHot: (inner: SessionStore) => SessionStore, makeCold = (inner: SessionStore) => inner) {
  const tiers: MemoryStore[] = []
  return {
    create: () => {
      const hot = new MemoryStore()
      const cold = new MemoryStore()
      tiers.push(hot, cold)
      return new LayeredStore({ hot: makeHot(hot), cold: makeCold(cold), hotTimeout: 30, onError: () => {} })
    },
    destroy: async (store: SessionStore) => {
      await store.close?.()
      await Promise.all(tiers.map((tier) => tier.close()))
    },
  }
}

describeStoreConformance({
  name: 'LayeredStore with a hot store failing on every call',
  ...layeredOver((inner) => Object.assign(countingStore(inner), { failing: true })),
})

describeStoreConformance({
  name: 'LayeredStore with a hot store that never answers',
  ...layeredOver((inner) => Object.assign(hanging(inner), { hung: true })),
})

const jitter = () => Math.floor(Math.random() * 4)
describeStoreConformance({
  name: 'LayeredStore with both tiers answering after random delays',
  ...layeredOver(
    (inner) => delayed(inner, jitter),
    (inner) => delayed(inner, jitter),
  ),
})
