import { channel, tracingChannel } from 'node:diagnostics_channel'
import { redactBackendError } from './errors.js'

/**
 * What every `ruts:store` tracing event carries. Nothing else is published: no session key, no raw
 * id, no field name, no value, and no result (Node's own `tracePromise` would put the resolved
 * value, i.e. the session's bytes, on the context, so ruts publishes the events itself).
 */
export interface StoreCallContext {
  /** The store's `name`: `memory`, `redis`, `postgres`, `layered`, or a third party's. */
  readonly store: string
  /** The store operation: `get`, `getAll`, `write`, `remove`, `delete`, `expire`, `rename`, … */
  readonly operation: string
  /** On a layered store's inner calls: which tier the call went to. */
  readonly tier?: 'hot' | 'cold'
  /**
   * Set before the `error` event: a `SessionError` at the layer; on a tier, what the store threw, as a
   * redacted copy unless it is already one of this library's errors (a third-party tier's backend error
   * may carry the command's arguments).
   */
  error?: unknown
}

/** The lifecycle events published on `ruts:session`. */
export type SessionEventName = 'created' | 'regenerated' | 'deleted' | 'revoked' | 'expired' | 'invalid' | 'store-error'

/**
 * One `ruts:session` message:
 * - `created`: a write created a new session;
 * - `regenerated`: a session moved to a fresh id (`regenerate()` or a consumed `prepareRegenerate()`);
 * - `deleted`: `delete()` (or `expire(0)`) ended a live session;
 * - `revoked`: a session was ended from outside the request that holds it;
 * - `expired`: a presented, correctly signed cookie named no live session (expired, or ended elsewhere);
 * - `invalid`: a presented cookie value was malformed or failed its signature check;
 * - `store-error`: a store call failed and the operation failed with it (the request fails closed).
 *
 * `operation` and `code` are present on `store-error` only.
 */
export interface SessionEvent {
  readonly event: SessionEventName
  readonly store: string
  readonly operation?: string
  readonly code?: string
}

/**
 * The `operation` a store method is traced as on `ruts:store`, where it is not the method's own name
 * (SPEC §14 names operations for what they do: `subject`, `list`, `revoke`).
 */
const OPERATION_NAMES: Readonly<Record<string, string>> = {
  subjectOf: 'subject',
  listSubject: 'list',
  revokeSubject: 'revoke',
}

/**
 * @param method - a store method's name, e.g. `listSubject`
 * @returns the operation it is traced as, e.g. `list`
 */
export function operationOf(method: string): string {
  return OPERATION_NAMES[method] ?? method
}

/** Name of the tracing channel around every store call. */
export const STORE_CHANNEL = 'ruts:store'
/** Name of the channel of session lifecycle events. */
export const SESSION_CHANNEL = 'ruts:session'

const storeCalls = tracingChannel<unknown, StoreCallContext>(STORE_CHANNEL)
const sessionEvents = channel(SESSION_CHANNEL)
const { start, end, asyncStart, asyncEnd, error: failed } = storeCalls

/**
 * Whether anyone listens to `ruts:store`. Read per store call, before anything is built for the
 * trace. Spelled out over the five channels because Bun's `TracingChannel` lacks `hasSubscribers`.
 *
 * @returns `true` when a subscriber or a bound store is attached
 */
export function storeCallsObserved(): boolean {
  return (
    start.hasSubscribers ||
    asyncEnd.hasSubscribers ||
    failed.hasSubscribers ||
    end.hasSubscribers ||
    asyncStart.hasSubscribers
  )
}

/**
 * Run one store call inside `ruts:store` events: `start` (with any bound stores entered), `end`
 * when the call returned its promise, then `error` on failure, and `asyncStart`/`asyncEnd` when it
 * settles. A synchronous throw is treated as a rejection, so `asyncEnd` always follows `start`.
 * Call it only when {@link storeCallsObserved} says so.
 *
 * @param store - the store's name
 * @param operation - the operation
 * @param tier - the tier of a layered store's inner call
 * @param call - the store call
 * @returns the call's promise, settled as it settles
 */
export function traceStoreCall<T>(
  store: string,
  operation: string,
  tier: 'hot' | 'cold' | undefined,
  call: () => Promise<T>,
): Promise<T> {
  const context: StoreCallContext = tier === undefined ? { store, operation } : { store, operation, tier }
  return start.runStores(context, () => {
    let pending: Promise<T>
    try {
      pending = call()
    } catch (error) {
      pending = Promise.reject(error)
    } finally {
      end.publish(context)
    }
    return pending.then(
      (value) => {
        asyncStart.publish(context)
        asyncEnd.publish(context)
        return value
      },
      (error: unknown) => {
        context.error = redactBackendError(error)
        failed.publish(context)
        asyncStart.publish(context)
        asyncEnd.publish(context)
        throw error
      },
    )
  })
}

/**
 * Publish a lifecycle event on `ruts:session` when anyone listens; costs one property read when
 * nobody does.
 *
 * @param event - what happened
 * @param store - the store's name
 * @param failure - for `store-error`: the failed operation and the error's code
 */
export function publishSessionEvent(
  event: SessionEventName,
  store: string,
  failure?: { operation: string; code: string },
): void {
  if (!sessionEvents.hasSubscribers) return
  const message: SessionEvent = failure === undefined ? { event, store } : { event, store, ...failure }
  sessionEvents.publish(message)
}
