import type {
  BindOptions,
  BindResult,
  RevokeTarget,
  SessionKey,
  SessionStore,
  SubjectRead,
  SubjectSession,
} from '../../core/store.js'
import { LEASE_FIELD, reachHot } from './lease.js'
import { endSessionsInHot, finishMoveInHot, prepareMove, releaseGuard } from './moves.js'
import type { FieldPolicies } from './policies.js'
import { dropAbandonedHotCopy, moveHotCopy, type Tiers } from './writes.js'

/** A cold store with the `subjects` capability. */
export type SubjectCold = SessionStore &
  Required<Pick<SessionStore, 'bind' | 'subjectOf' | 'listSubject' | 'revokeSubject'>>

/**
 * A key no session ever has (not a SHA-256 shape): `revokeSubject` deletes its lease to learn that hot
 * answers before it changes cold, when it does not know yet which sessions it will end.
 */
const PROBE_KEY = 'ruts:layered:probe'

/**
 * The subjects capability of a {@link LayeredStore} (SPEC §13): cold is the authority — it binds,
 * lists and revokes — and hot is made to match what cold did, as for delete and rename (SPEC §10): a
 * moved session's old key and an ended session are never served from hot again, by any process, once
 * the call resolves.
 */
export class LayeredSubjects {
  readonly #tiers: Tiers
  readonly #cold: SubjectCold
  readonly #policies: FieldPolicies

  /**
   * @param tiers - the stores and bookkeeping
   * @param cold - the cold tier, which has the capability
   * @param policies - per-session field policies (they follow a moved session, and go with an ended one)
   */
  constructor(tiers: Tiers, cold: SubjectCold, policies: FieldPolicies) {
    this.#tiers = tiers
    this.#cold = cold
    this.#policies = policies
  }

  /**
   * Bind in cold; a move there moves the hot copy (guarded, {@link prepareMove}), and the sessions
   * `maxSessions` ended lose their hot copies before this resolves.
   *
   * @param key - the fresh key
   * @param options - see `BindOptions`
   * @returns cold's result
   */
  async bind(key: SessionKey, options: BindOptions): Promise<BindResult> {
    const { hot, activity } = this.#tiers
    const from = options.session === 'existing' ? options.renameFrom : undefined
    const end = activity.change(from === undefined ? [key] : [key, from], undefined)
    try {
      // The move happens only when the subject changes, which only cold knows: prepare for one.
      const guard = from === undefined ? undefined : await prepareMove(hot, from, key, 'bind', true)
      // Without a move to prepare, hot is still asked first when the bind may end other sessions, so
      // a hot that does not answer fails the login before cold ends any (503, nothing changed).
      if (guard === undefined && options.maxSessions !== undefined) await reachHot(hot, [PROBE_KEY], 'bind')
      const result = await this.#cold.bind(key, options)
      if (result.status !== 'bound' || from === undefined) {
        if (guard !== undefined) releaseGuard(hot, guard)
        if (result.status === 'missing') dropAbandonedHotCopy(hot, from ?? key)
      } else if (guard !== undefined) {
        const movable = hot.trusted(from)
        await finishMoveInHot<unknown>(hot, from, guard, 'bind', (store) =>
          movable ? moveHotCopy(store, from, key) : store.delete(from),
        )
        this.#policies.move(from, key)
      }
      if (result.status === 'bound' || result.status === 'kept') await this.#endInHot(result.ended)
      return result
    } finally {
      end()
    }
  }

  /**
   * @param key - session key
   * @returns cold's answer; for a session cold does not hold, whether hot holds one (created by
   *   `hot-only` writes, never bound)
   */
  async subjectOf(key: SessionKey): Promise<SubjectRead> {
    const { hot } = this.#tiers
    const cold = await this.#cold.subjectOf(key)
    if (cold.live || !hot.trusted(key)) return cold
    const inHot = await hot.call('subject', (store) => store.get(key, LEASE_FIELD))
    if (!inHot?.live) return cold
    return { live: true, ttl: inHot.ttl, touched: false, subject: undefined, meta: undefined }
  }

  /**
   * @param subject - the subject
   * @returns cold's list
   */
  listSubject(subject: string): Promise<SubjectSession[]> {
    return this.#cold.listSubject(subject)
  }

  /**
   * Revoke in cold, then end every revoked session in hot. When hot does not answer, this fails
   * before cold is changed (503, nothing revoked).
   *
   * @param subject - the subject
   * @param target - which of its sessions
   * @returns the keys cold ended
   */
  async revokeSubject(subject: string, target: RevokeTarget): Promise<SessionKey[]> {
    await reachHot(this.#tiers.hot, target.keys ?? [PROBE_KEY], 'revoke')
    const ended = await this.#cold.revokeSubject(subject, target)
    await this.#endInHot(ended)
    return ended
  }

  /** Sessions cold ended: no process may serve them from hot once the call resolves. */
  async #endInHot(keys: readonly SessionKey[]): Promise<void> {
    if (keys.length === 0) return
    const end = this.#tiers.activity.change(keys, undefined)
    try {
      await endSessionsInHot(this.#tiers.hot, keys, 'revoke')
      for (const key of keys) this.#policies.forget(key)
    } finally {
      end()
    }
  }
}
