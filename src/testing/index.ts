/**
 * The shared test suites (Vitest): {@link describeStoreConformance} for a store,
 * {@link describeAdapterBehaviour} for an adapter, and the helpers they use.
 *
 * @module ruts/testing
 */
export type { SuiteHandler, SuiteResponse } from './adapter-routes.js'
export { suiteHandler } from './adapter-routes.js'
export {
  type AdapterSuiteOptions,
  describeAdapterBehaviour,
  localStoreControl,
  type RunningServer,
  remoteStoreControl,
  type StartServer,
  type StoreControl,
} from './adapter-suite.js'
export { type CountingStore, countingStore, UNREACHABLE_FIELD } from './counting-store.js'
export { type ClientResponse, CookieClient, maxAgeOf } from './http-client.js'
export { describeStoreConformance, type StoreConformanceOptions, type StoreSuiteContext } from './store-conformance.js'
