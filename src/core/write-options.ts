import { SessionError } from './errors.js'
import type { SessionStore } from './store.js'

/**
 * Per-call write options that only some stores understand. Empty here: a store adds its own by
 * declaration merging (`declare module` on this interface) and lists their names in
 * {@link SessionStore.writeOptions}; the core passes them through in `WriteOptions.extra` and the
 * store validates them.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the stores' declaration merging
export interface StoreWriteOptions {}

/** Per-call options of `insert` and `update`: `ttl`, plus whatever {@link StoreWriteOptions} the stores add. */
export interface SessionWriteOptions extends StoreWriteOptions {
  /** The field's TTL in whole seconds. @default the cookie `maxAge` */
  ttl?: number
}

/**
 * The store-specific part of a call's write options, to pass through as `WriteOptions.extra`.
 * Options left `undefined` count as not given.
 *
 * @param options - write options from the caller
 * @param store - the store that will receive them
 * @returns the options other than `ttl`, or `undefined` when there are none
 * @throws SessionError `ERR_SESSION_OPTION` for an option the store did not declare
 */
export function storeWriteOptions(
  options: SessionWriteOptions | undefined,
  store: SessionStore,
): Record<string, unknown> | undefined {
  if (options === undefined) return undefined
  let extra: Record<string, unknown> | undefined
  for (const name of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[name]
    if (name === 'ttl' || value === undefined) continue
    if (store.writeOptions?.includes(name) !== true) {
      throw new SessionError(
        'ERR_SESSION_OPTION',
        `the ${store.name} store does not understand the write option ${name}`,
      )
    }
    extra ??= {}
    extra[name] = value
  }
  return extra
}
