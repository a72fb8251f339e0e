import type { SessionStore } from '../core/store.js'

type Operation =
  | 'get'
  | 'getAll'
  | 'write'
  | 'remove'
  | 'delete'
  | 'expire'
  | 'rename'
  | 'increment'
  | 'take'
  | 'bind'
  | 'subjectOf'
  | 'listSubject'
  | 'revokeSubject'
const OPERATIONS: readonly Operation[] = [
  'get',
  'getAll',
  'write',
  'remove',
  'delete',
  'expire',
  'rename',
  'increment',
  'take',
  'bind',
  'subjectOf',
  'listSubject',
  'revokeSubject',
]

/**
 * A field whose every operation on a {@link countingStore} rejects like an unreachable backend,
 * whatever `failing` says: for a request whose later store call fails after an earlier one (say, the
 * one that created the session) succeeded.
 */
export const UNREACHABLE_FIELD = 'ruts:unreachable'

/** A store wrapper for tests: counts calls per operation and can be told to fail (fault injection). */
export interface CountingStore extends SessionStore {
  /** Calls per operation since the last {@link CountingStore.reset}. */
  readonly calls: Record<Operation, number>
  /** Total calls since the last reset. */
  total(): number
  reset(): void
  /** While `true`, every operation rejects like an unreachable backend. */
  failing: boolean
}

/**
 * Wrap a store to count its calls and inject failures. It has exactly the optional operations
 * (capabilities) of the store it wraps. Only for tests: a failing real backend is
 * exercised by each store's own fault tests.
 *
 * @param inner - the real store
 * @returns the counting wrapper
 */
export function countingStore(inner: SessionStore): CountingStore {
  const calls = Object.fromEntries(OPERATIONS.map((name) => [name, 0])) as Record<Operation, number>
  const wrapper = {
    name: inner.name,
    ...(inner.writeOptions === undefined ? {} : { writeOptions: inner.writeOptions }),
    ...(inner.limits === undefined ? {} : { limits: inner.limits }),
    calls,
    failing: false,
    total: () => OPERATIONS.reduce((sum, name) => sum + calls[name], 0),
    reset: () => {
      for (const name of OPERATIONS) calls[name] = 0
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  } as CountingStore
  for (const name of OPERATIONS) {
    const method = inner[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    // An optional operation the inner store lacks stays absent: the wrapper has its capabilities.
    if (method === undefined) continue
    ;(wrapper as unknown as Record<Operation, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++
      if (wrapper.failing || args[1] === UNREACHABLE_FIELD) return Promise.reject(new Error('injected backend failure'))
      return method.apply(inner, args)
    }
  }
  return wrapper
}
