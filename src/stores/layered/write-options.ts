import type { WriteStrategy } from './policies.js'

/** The per-call write options the layered store understands (its `writeOptions`). */
export const LAYERED_WRITE_OPTIONS: readonly string[] = ['strategy', 'hotTtl']

// The layered store's per-call options join `SessionWriteOptions`, the type of `insert`/`update`
// options; the root entry references this file so the type is the same whichever subpaths a program
// imports. Other stores reject these options at run time (`ERR_SESSION_OPTION`).
declare module '../../core/write-options.js' {
  interface StoreWriteOptions {
    /** `LayeredStore` only: which tier(s) to write. @default 'write-through' */
    strategy?: WriteStrategy
    /** `LayeredStore` only: shorter TTL for the hot copy, never above `ttl`. */
    hotTtl?: number
  }
}
