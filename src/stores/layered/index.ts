/**
 * {@link LayeredStore}: a fast hot store (a cache) in front of a durable cold store.
 *
 * @module ruts/layered
 */
import { SessionError } from '../../core/errors.js'
import { checkIncrement } from '../../core/integers.js'
import {
  type BindOptions,
  type BindResult,
  type ExpireResult,
  type FieldRead,
  type FieldValue,
  type IncrementOptions,
  type IncrementResult,
  type LiveSession,
  type ReadOptions,
  type RemoveResult,
  type RenameResult,
  type RevokeTarget,
  type SessionKey,
  type SessionRead,
  type SessionStore,
  type StoreLimit,
  type SubjectRead,
  type SubjectSession,
  storeEnforces,
  storeSupports,
  type WriteOptions,
  type WriteResult,
} from '../../core/store.js'
import { checkExpireSeconds, checkWriteTtls } from '../../core/ttl.js'
import { type Flight, KeyActivity } from './activity.js'
import { incrementLayered, takeLayered } from './field-operations.js'
import { HotTier } from './hot-tier.js'
import {
  endInHot,
  HOT_ONLY_FIELD,
  hotCopySeconds,
  hotFieldSeconds,
  isHotOnly,
  LEASE_FIELD,
  reachHot,
  refuseLeaseField,
  warmAbsent,
} from './lease.js'
import { finishMoveInHot, prepareMove, releaseGuard } from './moves.js'
import { checkLayeredOptions, type LayeredStoreOptions, warnAtMostEvery } from './options.js'
import { FieldPolicies } from './policies.js'
import { LayeredSubjects, type SubjectCold } from './subjects.js'
import { TracedTier } from './traced-tier.js'
import { LAYERED_WRITE_OPTIONS } from './write-options.js'
import { moveHotCopy, syncHotOrDistrust, type Tiers, writeCold, writeHotOnly } from './writes.js'

export type { HotErrorContext, HotErrorHandler } from './hot-tier.js'
export type { LayeredStoreOptions } from './options.js'
export type { FieldPolicy, WriteStrategy } from './policies.js'

/**
 * A hot cache over a durable store, itself just another `SessionStore`. Cold is the source of truth;
 * each tier holds ordinary sessions written through the store contract. Reads try hot, fall back to
 * cold and warm hot; writes go cold first, then hot (per-call `strategy` and `hotTtl`); a hot store
 * that fails or is slower than `hotTimeout` is bypassed. See docs/layered.md for the guarantees.
 *
 * @example
 * ```ts
 * import { SessionLayer } from 'ruts'
 * import { LayeredStore } from 'ruts/layered'
 * import { PostgresStore } from 'ruts/postgres'
 * import { RedisStore } from 'ruts/redis'
 *
 * const store = new LayeredStore({
 *   hot: new RedisStore({ client: redis }),
 *   cold: await PostgresStore.create({ pool }),
 * })
 * const layer = new SessionLayer({ store })
 * // in a handler: valid 30 days in Postgres, cached 1 hour in Redis
 * await req.session.update('user', user, { ttl: 30 * 86400, hotTtl: 3600 })
 * ```
 */
export class LayeredStore implements SessionStore {
  readonly name = 'layered'
  /** The per-call write options this store understands: `strategy` and `hotTtl`. */
  readonly writeOptions = LAYERED_WRITE_OPTIONS
  /**
   * `maxFields` when the cold store enforces it: cold, the source of truth, decides, and a refused
   * write (`full`) leaves the hot copy as it was. A `hot-only` field, which cold never sees, is
   * counted by hot against the fields its copy holds.
   */
  readonly limits: readonly StoreLimit[]
  /**
   * Capability `subjects`, present when the cold store has it: cold binds, lists and revokes; a moved
   * or ended session's hot copy is gone, in every process, when the call resolves (docs/subjects.md).
   */
  declare readonly bind?: (key: SessionKey, options: BindOptions) => Promise<BindResult>
  /** Cold's answer (a session only hot holds is reported live and unbound). */
  declare readonly subjectOf?: (key: SessionKey) => Promise<SubjectRead>
  /** Cold's list. */
  declare readonly listSubject?: (subject: string) => Promise<SubjectSession[]>
  /** Cold revokes; then every ended session's lease and hot copy are deleted before this resolves. */
  declare readonly revokeSubject?: (subject: string, target: RevokeTarget) => Promise<SessionKey[]>
  readonly #hot: HotTier
  readonly #cold: SessionStore
  readonly #activity: KeyActivity
  readonly #policies: FieldPolicies
  readonly #tiers: Tiers
  readonly #hotTimeout: number

  /**
   * @param options - the two stores and the cache settings
   * @throws SessionConfigError for a missing store or an out-of-range setting
   */
  constructor(options: LayeredStoreOptions) {
    checkLayeredOptions(options)
    const missTtl = options.missTtl ?? 1000
    const maxTombstones = options.maxTombstones ?? 10_000
    this.#policies = new FieldPolicies(options.fields, options.hotTtl)
    this.#hotTimeout = options.hotTimeout ?? 250
    this.#hot = new HotTier(new TracedTier(options.hot, 'hot'), {
      timeout: this.#hotTimeout,
      repairInterval: options.repairInterval ?? 1000,
      maxTombstones,
      onError: options.onError ?? warnAtMostEvery(10_000),
    })
    this.#cold = new TracedTier(options.cold, 'cold')
    this.limits = storeEnforces(this.#cold, 'maxFields') ? ['maxFields'] : []
    this.#activity = new KeyActivity(missTtl)
    const subjects = storeSupports(this.#cold, 'subjects')
    this.#tiers = { hot: this.#hot, cold: this.#cold, activity: this.#activity, guardMoves: subjects }
    // Declared by having the methods (as a store declares any capability): only over a cold store
    // that has them.
    if (subjects) {
      const layered = new LayeredSubjects(this.#tiers, this.#cold as SubjectCold, this.#policies)
      Object.assign(this, {
        bind: (key: SessionKey, options: BindOptions) => layered.bind(key, options),
        subjectOf: (key: SessionKey) => layered.subjectOf(key),
        listSubject: (subject: string) => layered.listSubject(subject),
        revokeSubject: (subject: string, target: RevokeTarget) => layered.revokeSubject(subject, target),
      })
    }
  }

  async get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    refuseLeaseField(field)
    const remembered = this.#activity.recall(key, field, options?.touch)
    if (remembered !== undefined) return remembered
    const flight = this.#activity.begin(key, field)
    try {
      const policy = this.#policies.forRead(key, field)
      // A cold-only field is never in hot; a session being deleted or moved here is read from cold.
      const useHot = policy.strategy !== 'cold-only' && this.#hot.trusted(key) && !this.#activity.moving(key)
      const hot = useHot ? await this.#hot.call('get', (store) => store.get(key, field)) : undefined
      if (hot?.live && hot.value !== undefined)
        return await this.#hotHit(key, field, { ...hot, value: hot.value }, options)
      const cold = await this.#cold.get(key, field, options)
      if (cold.live && cold.value !== undefined) {
        if (hot !== undefined) this.#warm(flight, cold.value, cold, hot.live, policy.hotTtl)
        return cold
      }
      // Cold has no session but hot does: a session created by hot-only writes.
      const read: FieldRead = !cold.live && hot?.live ? { ...hot, touched: false } : cold
      // A miss seen while hot failed is cold's alone: not remembered, so once hot answers again a
      // session only hot holds is found at once.
      if (!useHot || hot !== undefined) this.#activity.remember(flight, read)
      return read
    } finally {
      this.#activity.end(flight)
    }
  }

  async getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    const useHot = this.#hot.trusted(key) && !this.#activity.moving(key)
    const [hot, cold] = await Promise.all([
      useHot ? this.#hot.call('getAll', (store) => store.getAll(key)) : undefined,
      this.#cold.getAll(key, options),
    ])
    // A hot copy warmed from scratch still holds its lease's field; a hot-only session, its mark. Cold
    // never should, unless both tiers are one set of keys (two stores over the same Redis and prefix).
    for (const tier of [hot, cold]) {
      if (tier?.live) {
        tier.fields.delete(LEASE_FIELD)
        tier.fields.delete(HOT_ONLY_FIELD)
      }
    }
    if (!cold.live) return hot?.live ? { ...hot, touched: false } : cold
    this.#mirrorTouch(key, cold)
    if (!hot?.live) return cold
    // Hot is never older than cold for values this process wrote (hot-only fields live only there).
    const fields = new Map(cold.fields)
    for (const [name, value] of hot.fields) fields.set(name, value)
    return { live: true, ttl: cold.ttl, touched: cold.touched, fields }
  }

  async write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    checkWriteTtls(options)
    refuseLeaseField(field)
    const policy = this.#policies.resolve(field, options.fieldTtl, options.extra)
    const { extra, ...plain } = options
    const from = options.renameFrom
    const end = this.#activity.change(from === undefined ? [key] : [key, from], from === undefined ? field : undefined)
    const flight = this.#activity.begin(key, field)
    try {
      const write = { key, field, value, options: plain, policy, flight }
      const result = await (policy.strategy === 'hot-only' ? writeHotOnly : writeCold)(this.#tiers, write)
      // A refused write (`exists`, `full`) still consumed the rename: the session moved.
      if (from !== undefined && result.status !== 'missing' && result.status !== 'collision') {
        this.#policies.move(from, key)
      }
      if (result.status === 'written' || result.status === 'exists') this.#policies.remember(key, field, extra, policy)
      return result
    } finally {
      this.#activity.end(flight)
      end()
    }
  }

  async increment(key: SessionKey, field: string, options: IncrementOptions): Promise<IncrementResult> {
    checkIncrement(options)
    refuseLeaseField(field)
    this.#coldField('increment()', key, field)
    const from = options.renameFrom
    const end = this.#activity.change(from === undefined ? [key] : [key, from], from === undefined ? field : undefined)
    try {
      const result = await incrementLayered(this.#tiers, key, field, options)
      if (from !== undefined && result.status !== 'missing' && result.status !== 'collision') {
        this.#policies.move(from, key)
      }
      return result
    } finally {
      end()
    }
  }

  async take(key: SessionKey, field: string): Promise<FieldRead> {
    refuseLeaseField(field)
    this.#coldField('take()', key, field)
    const end = this.#activity.change([key], field)
    try {
      const taken = await takeLayered(this.#tiers, key, field)
      this.#policies.forgetField(key, field)
      return taken
    } finally {
      end()
    }
  }

  async remove(key: SessionKey, field: string): Promise<RemoveResult> {
    refuseLeaseField(field)
    const end = this.#activity.change([key], field)
    try {
      const cold = await this.#cold.remove(key, field)
      this.#policies.forgetField(key, field)
      const hot = this.#hot.trusted(key)
        ? await syncHotOrDistrust(this.#hot, [key], 'remove', (s) => s.remove(key, field))
        : undefined
      if (!cold.live) return hot?.live ? hot : cold
      return { ...cold, removed: cold.removed || (hot?.live === true && hot.removed) }
    } finally {
      end()
    }
  }

  async delete(key: SessionKey): Promise<boolean> {
    const end = this.#activity.change([key], undefined)
    try {
      await reachHot(this.#hot, [key], 'delete')
      const cold = await this.#cold.delete(key)
      // Also for a buried key: its repair loop may never run (this process may die first).
      const hot = await endInHot(this.#hot, [key], 'delete', (s) => s.delete(key))
      this.#policies.forget(key)
      return cold || hot
    } finally {
      end()
    }
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    checkExpireSeconds(seconds)
    const end = this.#activity.change([key], undefined)
    try {
      await reachHot(this.#hot, [key], 'expire')
      const cold = await this.#cold.expire(key, seconds)
      if (cold.live) {
        // The hot session mirrors cold's lifetime (rounded down), so it never outlives it; a buried
        // copy, possibly stale, is deleted instead.
        const mirrored = Math.max(0, hotCopySeconds(cold.ttl))
        const trusted = this.#hot.trusted(key)
        await endInHot<unknown>(this.#hot, [key], 'expire', (s) => (trusted ? s.expire(key, mirrored) : s.delete(key)))
        return cold
      }
      const hot = await endInHot(this.#hot, [key], 'expire', (s) => s.expire(key, seconds))
      return hot.live ? hot : cold
    } finally {
      end()
    }
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const end = this.#activity.change([from, to], undefined)
    try {
      const guard = await prepareMove(this.#hot, from, to, 'rename', this.#tiers.guardMoves)
      const cold = await this.#cold.rename(from, to)
      const movable = this.#hot.trusted(from)
      if (cold.status === 'collision' || (cold.status === 'missing' && !movable)) {
        releaseGuard(this.#hot, guard)
        return cold
      }
      if (cold.status === 'renamed') {
        // The old id is never served from hot again once this resolves, here or anywhere.
        await finishMoveInHot<unknown>(this.#hot, from, guard, 'rename', (s) =>
          movable ? moveHotCopy(s, from, to) : s.delete(from),
        )
        this.#policies.move(from, to)
        return cold
      }
      // Cold does not hold it: a session created by hot-only writes (never bound, so the guard is only
      // released), or one cold has just ended or moved whose hot step has not run yet: that copy goes.
      releaseGuard(this.#hot, guard)
      const hotOnly = await isHotOnly(this.#hot, from)
      // Hot cannot tell: cold's answer stands (hot down means cold answers), and the hot copy is left
      // as it is; a copy another process's change left behind is that change's to end.
      if (hotOnly === undefined) return cold
      if (!hotOnly) {
        await endInHot(this.#hot, [from], 'rename', (s) => s.delete(from))
        return cold
      }
      const hot = await endInHot(this.#hot, [from], 'rename', (s) => s.rename(from, to))
      if (hot.status === 'renamed') this.#policies.move(from, to)
      return hot
    } finally {
      end()
    }
  }

  /** Stop the repair loop and wait for background hot calls. Never closes the hot or cold store. */
  async close(): Promise<void> {
    await this.#hot.close()
  }

  /** `increment` and `take` work on cold, the source of truth: a field kept only in hot has none. */
  #coldField(what: string, key: SessionKey, field: string): void {
    if (this.#policies.forRead(key, field).strategy !== 'hot-only') return
    throw new SessionError('ERR_SESSION_UNSUPPORTED', `${what} is not supported on a hot-only field`)
  }

  /** A hot hit; when a sliding refresh is due by hot's ttl, cold is refreshed and decides the ttl. */
  async #hotHit(
    key: SessionKey,
    field: string,
    hot: LiveSession & { value: FieldValue },
    options: ReadOptions | undefined,
  ): Promise<FieldRead> {
    const touch = options?.touch
    if (touch === undefined || hot.ttl > (touch.ttl - touch.threshold) * 1000) return { ...hot, touched: false }
    const cold = await this.#cold.get(key, field, options)
    if (!cold.live) return { ...hot, touched: false }
    this.#mirrorTouch(key, cold)
    return { live: true, ttl: cold.ttl, touched: cold.touched, value: cold.value ?? hot.value }
  }

  /**
   * Warm hot with what a read found in cold, unless a change overlapped the read. Into a hot session
   * that exists, one call that never creates nor extends it (a delete elsewhere meanwhile leaves it
   * `missing`); a session hot lost is warmed from scratch through its lease ({@link warmAbsent}).
   */
  #warm(
    flight: Flight,
    value: FieldValue,
    cold: Pick<LiveSession, 'ttl'> & { fieldTtl?: number | undefined },
    hotLive: boolean,
    hotTtl: number | undefined,
  ): void {
    const { key, field } = flight
    const coldTtl = cold.ttl
    if (!this.#activity.unchanged(flight) || !this.#hot.trusted(key)) return
    if (!hotLive) {
      const warm = { ...this.#tiers, key, field, hotTtl, hotTimeout: this.#hotTimeout }
      this.#hot.track(warmAbsent(warm))
      return
    }
    const sessionTtl = hotCopySeconds(coldTtl)
    // Never longer than the field has left in cold: an expired field is never served (SPEC §4).
    const fieldTtl = Math.min(hotTtl ?? sessionTtl, sessionTtl, hotFieldSeconds(cold.fieldTtl))
    if (fieldTtl < 1) return
    this.#hot.noteFieldTtl(fieldTtl)
    // insert: a write that reached hot meanwhile is newer than what this read saw in cold. The hot
    // session's lifetime is left alone (sessionTtl 1 never extends it): writes and touches mirror it.
    const options: WriteOptions = { mode: 'insert', session: 'existing', fieldTtl, sessionTtl: 1 }
    this.#hot.background('warm', (store) => store.write(key, field, value, options))
  }

  /** Cold moved the session's expiry on a read: move the hot copy's along. */
  #mirrorTouch(key: SessionKey, cold: LiveSession): void {
    if (!cold.touched || !this.#hot.trusted(key) || hotCopySeconds(cold.ttl) < 1) return
    this.#hot.background('expire', (store) => store.expire(key, hotCopySeconds(cold.ttl)))
  }
}
