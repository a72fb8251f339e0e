import { publishSessionEvent, storeCallsObserved, traceStoreCall } from './diagnostics.js'
import { SessionError, SessionStoreError } from './errors.js'

/** Default per-operation timeout of the bundled stores, in milliseconds. */
export const DEFAULT_STORE_TIMEOUT = 2000

/**
 * Run a backend call under a deadline. Any failure, including the deadline, becomes a
 * {@link SessionStoreError} with the backend error as `cause`.
 *
 * @param store - store name for the message
 * @param operation - operation name for the message
 * @param timeoutMs - deadline in milliseconds
 * @param work - the backend call; `expired()` tells whether the deadline has passed, so that a
 *   command a client held back (reconnecting, failing over) is not sent once the caller was told
 *   the call failed
 * @returns the call's result
 */
export function runWithTimeout<T>(
  store: string,
  operation: string,
  timeoutMs: number,
  work: (expired: () => boolean) => Promise<T>,
): Promise<T> {
  // Per call: this promise, its timer and three callbacks; no deadline promise, no race, no
  // async function frame. The callbacks stay anonymous: a transpiler's keepNames (tsx, esbuild)
  // would otherwise name each one with a defineProperty call on every operation.
  return new Promise<T>((resolve, reject) => {
    let expired = false
    const timer = setTimeout(() => {
      expired = true
      reject(new SessionStoreError(`${store}: ${operation} timed out after ${timeoutMs} ms`, { timeout: true }))
    }, timeoutMs)
    let pending: Promise<T>
    try {
      // Promise.resolve returns a native promise as is; another thenable is adopted, as race did.
      pending = Promise.resolve(work(() => expired))
    } catch (error) {
      pending = Promise.reject(error)
    }
    pending.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        if (error instanceof SessionStoreError) reject(error)
        else reject(new SessionStoreError(`${store}: ${operation} failed`, { cause: error }))
      },
    )
  })
}

/**
 * Make a store call whose failures are session errors: a `SessionError` passes as is, anything else
 * (including a synchronous throw) becomes a {@link SessionStoreError} with the backend error as `cause`.
 * Traced on `ruts:store` when anyone listens, with the error the caller will see; a store failure is
 * also a `store-error` event on `ruts:session`.
 *
 * @param store - store name for the message
 * @param operation - the store operation, for the trace
 * @param call - the store call
 * @param onStoreError - told of the `SessionStoreError` the call rejects with
 * @returns the call's result
 */
export function callStore<T>(
  store: string,
  operation: string,
  call: () => Promise<T>,
  onStoreError?: (error: SessionStoreError) => void,
): Promise<T> {
  if (storeCallsObserved()) {
    return traceStoreCall(store, operation, undefined, () => settle(store, operation, call, onStoreError))
  }
  return settle(store, operation, call, onStoreError)
}

function settle<T>(
  store: string,
  operation: string,
  call: () => Promise<T>,
  onStoreError: ((error: SessionStoreError) => void) | undefined,
): Promise<T> {
  try {
    return call().then(undefined, (error: unknown) => {
      throw storeFailure(store, operation, error, onStoreError)
    })
  } catch (error) {
    throw storeFailure(store, operation, error, onStoreError)
  }
}

/**
 * What a failed store call rejects with, as {@link callStore} reports it: a `SessionError` as is,
 * anything else as a {@link SessionStoreError} with the backend error as `cause`. A store failure is
 * told to `onStoreError` and published as a `store-error` event.
 *
 * @param store - store name for the message
 * @param operation - the store operation, for the event
 * @param error - what the call threw or rejected with
 * @param onStoreError - told of the `SessionStoreError`
 * @returns the error to throw
 */
export function storeFailure(
  store: string,
  operation: string,
  error: unknown,
  onStoreError: ((error: SessionStoreError) => void) | undefined,
): SessionError {
  const failure =
    error instanceof SessionError ? error : new SessionStoreError(`${store}: operation failed`, { cause: error })
  // A store may also reject an argument (a SessionError of another code): that is no store failure.
  if (failure instanceof SessionStoreError) {
    onStoreError?.(failure)
    publishSessionEvent('store-error', store, { operation, code: failure.code })
  }
  return failure
}
