import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { delayed } from './helpers.js'

// The whole store contract must hold when hot is useless for data: failing or never answering on
// every read and write (each hot call then costs at most hotTimeout). Ending or moving a session
// (delete, expire, rename) needs hot's confirmation (SPEC §10), so those calls reach it here; their
// failure is in hot-failures.test.ts. And with both tiers answering after random delays, so that
// concurrent operations interleave at the tiers as they would over a network.
function layeredOver(
  makeHot: (inner: SessionStore) => SessionStore,
  makeCold = (inner: SessionStore) => inner,
  hotTimeout = 30,
) {
  const tiers: MemoryStore[] = []
  return {
    create: () => {
      const hot = new MemoryStore()
      const cold = new MemoryStore()
      tiers.push(hot, cold)
      return new LayeredStore({ hot: makeHot(hot), cold: makeCold(cold), hotTimeout, onError: () => {} })
    },
    destroy: async (store: SessionStore) => {
      await store.close?.()
      await Promise.all(tiers.map((tier) => tier.close()))
    },
  }
}

/** `inner` with every read and write answered by `answer` instead (a failure, or no answer). */
function uselessForData(inner: SessionStore, answer: () => Promise<never>): SessionStore {
  return {
    name: inner.name,
    get: answer,
    getAll: answer,
    write: answer,
    remove: answer,
    delete: (key) => inner.delete(key),
    expire: (key, seconds) => inner.expire(key, seconds),
    rename: (from, to) => inner.rename(from, to),
  }
}

describeStoreConformance({
  name: 'LayeredStore with a hot store failing on every read and write',
  ...layeredOver((inner) => uselessForData(inner, () => Promise.reject(new Error('injected backend failure')))),
})

describeStoreConformance({
  name: 'LayeredStore with a hot store that never answers a read or write',
  ...layeredOver((inner) => uselessForData(inner, () => new Promise<never>(() => {}))),
})

// Generous hot timeout: a delete, expire or rename fails when hot does not confirm in time.
const jitter = () => Math.floor(Math.random() * 4)
describeStoreConformance({
  name: 'LayeredStore with both tiers answering after random delays',
  ...layeredOver(
    (inner) => delayed(inner, jitter),
    (inner) => delayed(inner, jitter),
    2_000,
  ),
})
