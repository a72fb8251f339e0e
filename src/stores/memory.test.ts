import { describeStoreConformance } from '../testing/store-conformance.js'
import { MemoryStore } from './memory.js'

describeStoreConformance({ name: 'MemoryStore', create: () => new MemoryStore() })
