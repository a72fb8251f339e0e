import type {
  BindOptions,
  BindResult,
  RevokeTarget,
  SessionKey,
  SubjectRead,
  SubjectSession,
} from '../../core/store.js'
import { type ClusterSubjects, leaveIndex, revokeAcrossSlots } from './cluster-revoke.js'
import { bindAcrossSlots, listAcrossSlots } from './cluster-subjects.js'
import type { ScriptRunner } from './runner.js'
import { memberOf, subjectIndexKey } from './subject-keys.js'
import { LIST, REVOKE } from './subject-list-scripts.js'
import { BIND, BIND_CREATING, SUBJECT_OF } from './subject-scripts.js'

/**
 * How long a Cluster marker lives and how far an index entry's score reaches past its session's
 * expiry: ten times the store's timeout, far beyond any step the store still waits for.
 *
 * @param timeout - the store's per-operation timeout in ms
 * @returns the hold in ms
 */
export function holdFor(timeout: number): number {
  return 10 * timeout
}

/**
 * The subjects capability of a `RedisStore` (SPEC §13) on either topology: one script per call on a
 * standalone server (`subject-scripts.ts`), ordered one-slot steps on a Cluster
 * (`cluster-subjects.ts`). Keys given and returned are store keys; Redis keys are made here.
 */
export class RedisSubjects {
  readonly #runner: ScriptRunner
  readonly #prefix: string
  readonly #cluster: ClusterSubjects

  /**
   * @param runner - the store's script runner
   * @param prefix - the store's key prefix
   * @param timeout - the store's per-operation timeout in ms
   */
  constructor(runner: ScriptRunner, prefix: string, timeout: number) {
    this.#runner = runner
    this.#prefix = prefix
    this.#cluster = { runner, prefix, hold: holdFor(timeout) }
  }

  /**
   * @param key - the target store key
   * @param options - the bind
   * @param abandoned - fires when the store's deadline passed (Cluster steps undo what lands late)
   * @param expired - whether it has passed: a client that held the script back sends nothing then
   * @returns the bind's reply, with the keys `maxSessions` ended
   */
  bind(key: SessionKey, options: BindOptions, abandoned: AbortSignal, expired?: () => boolean): Promise<BindResult> {
    if (this.#runner.cluster) return bindAcrossSlots(this.#cluster, key, options, abandoned)
    const index = subjectIndexKey(this.#prefix, options.subject)
    const input = { key: this.#key(key), index, options }
    if (options.session === 'create' || options.renameFrom === undefined) {
      return this.#runner.run(BIND_CREATING, input, expired)
    }
    return this.#runner.run(BIND, { ...input, from: this.#key(options.renameFrom) }, expired)
  }

  /** @returns the subject and meta of a live session */
  subjectOf(key: SessionKey): Promise<SubjectRead> {
    return this.#runner.run(SUBJECT_OF, this.#key(key))
  }

  /** @returns the subject's live sessions, most recently active first */
  async list(subject: string): Promise<SubjectSession[]> {
    if (this.#runner.cluster) return listAcrossSlots(this.#cluster, subject)
    const sessions = await this.#runner.run(LIST, subjectIndexKey(this.#prefix, subject))
    return sessions.sort((a, b) => b.lastActiveAt - a.lastActiveAt)
  }

  /** @returns the keys of the live sessions ended */
  revoke(subject: string, target: RevokeTarget, expired?: () => boolean): Promise<SessionKey[]> {
    if (this.#runner.cluster) return revokeAcrossSlots(this.#cluster, subject, target)
    const index = subjectIndexKey(this.#prefix, subject)
    return this.#runner.run(REVOKE, { index, keys: target.keys, except: target.except }, expired)
  }

  /**
   * After a Cluster `delete`/`expire(0)` of a bound session (a standalone script leaves the index
   * itself): its entry leaves the index named in the script's reply.
   *
   * @param key - the deleted session's Redis key
   * @param index - its index, when it was bound
   */
  async deleted(key: string, index: string | undefined): Promise<void> {
    if (index !== undefined) await leaveIndex(this.#cluster, index, memberOf(key))
  }

  #key(key: SessionKey): string {
    return `${this.#prefix}{${key}}`
  }
}
