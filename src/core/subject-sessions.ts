import { publishSessionEvent } from './diagnostics.js'
import { SessionError } from './errors.js'
import type { Session } from './session.js'
import { currentKeysOf } from './session.js'
import { type RevokeTarget, type SessionKey, type SessionStore, storeSupports } from './store.js'
import { checkSubject, decodeMeta, handleOf, isHandle, type SessionInfo } from './subject-values.js'
import { callStore } from './timeout.js'

/** A store with the `subjects` capability. */
export type SubjectCapableStore = SessionStore &
  Required<Pick<SessionStore, 'bind' | 'subjectOf' | 'listSubject' | 'revokeSubject'>>

/**
 * How a store call is made: through {@link callStore}, or through a session's own call, which also
 * remembers a store failure for its adapter.
 */
export type StoreCaller = <T>(operation: string, call: () => Promise<T>) => Promise<T>

/**
 * @param store - the layer's store
 * @param what - the call that needs the capability, for the message
 * @returns the store, when it implements the `subjects` capability
 * @throws SessionError `ERR_SESSION_UNSUPPORTED` otherwise
 */
export function subjectStore(store: SessionStore, what: string): SubjectCapableStore {
  if (storeSupports(store, 'subjects')) return store as SubjectCapableStore
  throw new SessionError('ERR_SESSION_UNSUPPORTED', `${what} is not supported by the ${store.name} store`)
}

/**
 * Publish one `revoked` event per session a revocation ended (never the keys themselves).
 *
 * @param store - the store's name
 * @param ended - the keys the store reported
 */
export function publishRevoked(store: string, ended: readonly SessionKey[]): void {
  for (let index = 0; index < ended.length; index++) publishSessionEvent('revoked', store)
}

/**
 * The sessions of a subject, from outside any request: `layer.sessions`. A subject is
 * whatever the application binds with `session.setSubject()`, typically a user id.
 *
 * Every method needs a store with the `subjects` capability (every bundled store has it) and
 * rejects with `ERR_SESSION_UNSUPPORTED` otherwise; a subject that is not a string of 1–256
 * characters is `ERR_SESSION_ARGUMENT`.
 *
 * @typeParam Data - the layer's session shape
 *
 * @example
 * ```ts
 * import { MemoryStore, SessionLayer } from 'ruts'
 *
 * const layer = new SessionLayer({ store: new MemoryStore() })
 * const devices = await layer.sessions.list('user:42') // newest activity first
 * const first = devices[0]
 * if (first !== undefined) await layer.sessions.revoke('user:42', first.handle)
 * await layer.sessions.revokeAll('user:42') // e.g. after a password change
 * ```
 */
export class SubjectSessions<Data extends object = Record<string, unknown>> {
  readonly #store: SessionStore

  /** @internal Created by the layer: use `layer.sessions`. */
  constructor(store: SessionStore) {
    this.#store = store
  }

  /**
   * The subject's live sessions, most recently active first. Expired, deleted and revoked sessions
   * are never listed. Costs one store call.
   *
   * @param subject - the subject
   * @param options - `current`: the session of the request that asks, to mark it `current: true`
   * @returns one {@link SessionInfo} per live session (`[]` for an unknown subject)
   *
   * @example
   * ```ts
   * const mine = await layer.sessions.list(userId, { current: req.session })
   * ```
   */
  async list(subject: string, options: { current?: Session<Data> } = {}): Promise<SessionInfo[]> {
    checkSubject(subject)
    const store = subjectStore(this.#store, 'layer.sessions.list()')
    const current = options.current === undefined ? [] : currentKeysOf(options.current)
    return listSessions(store, subject, current, this.#caller())
  }

  /**
   * End one session of the subject, by the `handle` a {@link SessionInfo} gave. When it resolves,
   * no process and no tier of the store serves that session any more. Costs two store calls (the
   * handle is looked up in the subject's list, then that key is revoked).
   *
   * @param subject - the subject the session belongs to; a handle of another subject's session ends nothing
   * @param handle - from {@link SubjectSessions.list} (a session's handle changes with its id)
   * @returns `true` if that session was live and is now ended; `false` for an unknown, stale or
   *   malformed handle (never a throw)
   *
   * @example
   * ```ts
   * app.post('/devices/:handle/sign-out', async (req, res) => {
   *   const ended = await layer.sessions.revoke(userId, req.params.handle)
   *   res.status(ended ? 204 : 404).end()
   * })
   * ```
   */
  async revoke(subject: string, handle: string): Promise<boolean> {
    checkSubject(subject)
    const store = subjectStore(this.#store, 'layer.sessions.revoke()')
    if (!isHandle(handle)) return false
    const call = this.#caller()
    const listed = await call('list', () => store.listSubject(subject))
    const match = listed.find((session) => handleOf(session.key) === handle)
    if (match === undefined) return false
    return (await revokeSessions(store, subject, { keys: [match.key] }, call)) > 0
  }

  /**
   * End every session of the subject ("log out everywhere", after a password change). A session
   * bound to the subject while this runs is either ended or listed afterwards, never alive and
   * unlisted. Costs one store call.
   *
   * @param subject - the subject
   * @returns how many live sessions it ended
   *
   * @example
   * ```ts
   * await layer.sessions.revokeAll(userId)
   * ```
   */
  async revokeAll(subject: string): Promise<number> {
    checkSubject(subject)
    const store = subjectStore(this.#store, 'layer.sessions.revokeAll()')
    return revokeSessions(store, subject, {}, this.#caller())
  }

  #caller(): StoreCaller {
    const name = this.#store.name
    return (operation, call) => callStore(name, operation, call)
  }
}

/**
 * @param store - a store with the capability
 * @param subject - a checked subject
 * @param current - the asking session's candidate keys in cookie order; the first one listed is current
 * @param call - how to make the store call
 * @returns the subject's sessions as {@link SessionInfo}s
 */
export async function listSessions(
  store: SubjectCapableStore,
  subject: string,
  current: readonly SessionKey[],
  call: StoreCaller,
): Promise<SessionInfo[]> {
  const listed = await call('list', () => store.listSubject(subject))
  const keys = new Set(listed.map((session) => session.key))
  const currentKey = current.find((key) => keys.has(key))
  return listed.map((session) => ({
    handle: handleOf(session.key),
    subject,
    createdAt: new Date(session.createdAt),
    lastActiveAt: new Date(session.lastActiveAt),
    expiresAt: new Date(session.expiresAt),
    meta: decodeMeta(session.meta),
    current: session.key === currentKey,
  }))
}

/**
 * @param store - a store with the capability
 * @param subject - a checked subject
 * @param target - which of its sessions to end
 * @param call - how to make the store call
 * @returns how many live sessions were ended (one `revoked` event each)
 */
export async function revokeSessions(
  store: SubjectCapableStore,
  subject: string,
  target: RevokeTarget,
  call: StoreCaller,
): Promise<number> {
  const ended = await call('revoke', () => store.revokeSubject(subject, target))
  publishRevoked(store.name, ended)
  return ended.length
}
