export { describeStoreConformance, type StoreConformanceOptions } from './store-conformance.js'
