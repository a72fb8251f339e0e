import { operationOf, storeCallsObserved, traceStoreCall } from '../../core/diagnostics.js'
import {
  type ExpireResult,
  type FieldRead,
  type FieldValue,
  type ReadOptions,
  type RemoveResult,
  type RenameResult,
  type SessionKey,
  type SessionRead,
  type SessionStore,
  STORE_CAPABILITIES,
  type StoreLimit,
  type WriteOptions,
  type WriteResult,
} from '../../core/store.js'

/**
 * One tier of a layered store as the layered store calls it: every call traced on `ruts:store` with
 * its `tier` when anyone listens, and passed straight through (one property read more) when nobody
 * does. The layered store only ever reaches its tiers through this, so every inner call (reads,
 * writes, warming, repairs) is covered once, whatever the tier's store is.
 *
 * It forwards every member of the contract, optional methods only when the tier's store has them
 * (the layered store checks that): a member added to `SessionStore` and not forwarded here fails to
 * compile (see `Unforwarded` below). `writeOptions` is not passed on: the layered store checks a
 * call's options itself and hands its tiers plain ones; `close` is never called on a tier.
 */
export class TracedTier implements SessionStore {
  readonly name: string
  /** The tier's store's limits, as it declares them. */
  readonly limits: readonly StoreLimit[]
  declare readonly increment?: NonNullable<SessionStore['increment']>
  declare readonly take?: NonNullable<SessionStore['take']>
  declare readonly bind?: NonNullable<SessionStore['bind']>
  declare readonly subjectOf?: NonNullable<SessionStore['subjectOf']>
  declare readonly listSubject?: NonNullable<SessionStore['listSubject']>
  declare readonly revokeSubject?: NonNullable<SessionStore['revokeSubject']>
  readonly #store: SessionStore
  readonly #tier: 'hot' | 'cold'

  /**
   * @param store - the tier's store
   * @param tier - which tier it is
   */
  constructor(store: SessionStore, tier: 'hot' | 'cold') {
    this.name = store.name
    this.limits = store.limits ?? []
    this.#store = store
    this.#tier = tier
    for (const name of OPTIONAL_METHODS) {
      const method = this.#optional(name)
      if (method !== undefined) Object.assign(this, { [name]: method })
    }
  }

  /** An optional method of the tier's store, traced under its operation name; absent when the store lacks it. */
  #optional(name: OptionalMethod): ((...args: unknown[]) => Promise<unknown>) | undefined {
    const method = this.#store[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (method === undefined) return undefined
    const store = this.#store
    const operation = operationOf(name)
    return (...args: unknown[]) => {
      if (!storeCallsObserved()) return method.apply(store, args)
      return traceStoreCall(this.name, operation, this.#tier, () => method.apply(store, args))
    }
  }

  get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    if (!storeCallsObserved()) return this.#store.get(key, field, options)
    return traceStoreCall(this.name, 'get', this.#tier, () => this.#store.get(key, field, options))
  }

  getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    if (!storeCallsObserved()) return this.#store.getAll(key, options)
    return traceStoreCall(this.name, 'getAll', this.#tier, () => this.#store.getAll(key, options))
  }

  write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    if (!storeCallsObserved()) return this.#store.write(key, field, value, options)
    return traceStoreCall(this.name, 'write', this.#tier, () => this.#store.write(key, field, value, options))
  }

  remove(key: SessionKey, field: string): Promise<RemoveResult> {
    if (!storeCallsObserved()) return this.#store.remove(key, field)
    return traceStoreCall(this.name, 'remove', this.#tier, () => this.#store.remove(key, field))
  }

  delete(key: SessionKey): Promise<boolean> {
    if (!storeCallsObserved()) return this.#store.delete(key)
    return traceStoreCall(this.name, 'delete', this.#tier, () => this.#store.delete(key))
  }

  expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    if (!storeCallsObserved()) return this.#store.expire(key, seconds)
    return traceStoreCall(this.name, 'expire', this.#tier, () => this.#store.expire(key, seconds))
  }

  rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    if (!storeCallsObserved()) return this.#store.rename(from, to)
    return traceStoreCall(this.name, 'rename', this.#tier, () => this.#store.rename(from, to))
  }
}

/** The optional methods of the store contract: every capability's. */
const OPTIONAL_METHODS = Object.values(STORE_CAPABILITIES).flat()
type OptionalMethod = (typeof OPTIONAL_METHODS)[number]

/** Members of the store contract a tier does not forward: must stay `never`. */
type Unforwarded = Exclude<keyof SessionStore, keyof TracedTier | 'writeOptions' | 'close'>
// Compile-time check: a contract member added and not forwarded above makes this line name it.
const forwardsEveryMember: [Unforwarded] extends [never] ? true : Unforwarded = true
void forwardsEveryMember
