import { storeCallsObserved, traceStoreCall } from '../../core/diagnostics.js'
import type {
  ExpireResult,
  FieldRead,
  FieldValue,
  IncrementOptions,
  IncrementResult,
  ReadOptions,
  RemoveResult,
  RenameResult,
  SessionKey,
  SessionRead,
  SessionStore,
  WriteOptions,
  WriteResult,
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
  readonly increment?: (key: SessionKey, field: string, options: IncrementOptions) => Promise<IncrementResult>
  readonly take?: (key: SessionKey, field: string) => Promise<FieldRead>
  readonly #store: SessionStore
  readonly #tier: 'hot' | 'cold'

  /**
   * @param store - the tier's store
   * @param tier - which tier it is
   */
  constructor(store: SessionStore, tier: 'hot' | 'cold') {
    this.name = store.name
    this.#store = store
    this.#tier = tier
    const { increment, take } = store
    if (increment !== undefined) {
      this.increment = (key, field, options) => {
        if (!storeCallsObserved()) return increment.call(store, key, field, options)
        return traceStoreCall(this.name, 'increment', tier, () => increment.call(store, key, field, options))
      }
    }
    if (take !== undefined) {
      this.take = (key, field) => {
        if (!storeCallsObserved()) return take.call(store, key, field)
        return traceStoreCall(this.name, 'take', tier, () => take.call(store, key, field))
      }
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

/** Members of the store contract a tier does not forward: must stay `never`. */
type Unforwarded = Exclude<keyof SessionStore, keyof TracedTier | 'writeOptions' | 'close'>
// Compile-time check: a contract member added and not forwarded above makes this line name it.
const forwardsEveryMember: [Unforwarded] extends [never] ? true : Unforwarded = true
void forwardsEveryMember
