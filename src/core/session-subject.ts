import { SessionError } from './errors.js'
import type { SessionCalls } from './session-calls.js'
import type { BindOptions } from './store.js'
import { listSessions, publishRevoked, revokeSessions, subjectStore } from './subject-sessions.js'
import { checkSubject, encodeMeta, type SessionInfo } from './subject-values.js'

// A session handle's subject (SPEC §13): binding it at login, and the other sessions of the same
// subject. The subject is asked of the store at most once per request and remembered in the
// handle's state; `layer.sessions` (subject-sessions.ts) is the same from outside any request.

/**
 * @param calls - the handle's state
 * @param subject - the caller's subject
 * @param options - the caller's options
 * @returns when `session.setSubject()` resolves
 */
export async function setSubject<Data extends object>(
  calls: SessionCalls<Data>,
  subject: string,
  options: { meta?: Readonly<Record<string, unknown>> },
): Promise<void> {
  checkSubject(subject)
  // From JavaScript, `setSubject(subject, null)` is a caller's mistake to name, not a TypeError.
  if (typeof options !== 'object' || options === null) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'setSubject() takes its options as an object: { meta }')
  }
  const meta = encodeMeta(options.meta ?? {})
  const layer = calls.layer
  const store = subjectStore(layer.store, 'setSubject()')
  const maxSessions = layer.maxSessionsPerSubject
  await calls.place('bind', layer.cookie.maxAge, async (key, placement) => {
    const bind: BindOptions = { session: placement.session, subject, meta, sessionTtl: placement.sessionTtl }
    if (placement.renameFrom !== undefined) bind.renameFrom = placement.renameFrom
    if (placement.maxLifetime !== undefined) bind.maxLifetime = placement.maxLifetime
    if (maxSessions !== undefined) bind.maxSessions = maxSessions
    const result = await store.bind(key, bind)
    if (result.status === 'bound' || result.status === 'kept') {
      calls.subject = { value: subject }
      publishRevoked(store.name, result.ended)
    }
    return result
  })
}

/**
 * @param calls - the handle's state
 * @returns what `session.getSubject()` resolves to
 */
export async function getSubject<Data extends object>(calls: SessionCalls<Data>): Promise<string | undefined> {
  subjectStore(calls.layer.store, 'getSubject()')
  return calls.run(() => currentSubject(calls))
}

/**
 * @param calls - the handle's state
 * @returns what `session.listSiblings()` resolves to
 */
export async function listSiblings<Data extends object>(calls: SessionCalls<Data>): Promise<SessionInfo[]> {
  const store = subjectStore(calls.layer.store, 'listSiblings()')
  return calls.run(async () => {
    const subject = await currentSubject(calls)
    if (subject === undefined) return []
    return listSessions(store, subject, calls.currentKeys(), (operation, call) => calls.call(operation, call))
  })
}

/**
 * @param calls - the handle's state
 * @returns what `session.revokeOthers()` resolves to
 */
export async function revokeOthers<Data extends object>(calls: SessionCalls<Data>): Promise<number> {
  const store = subjectStore(calls.layer.store, 'revokeOthers()')
  return calls.run(async () => {
    const subject = await currentSubject(calls)
    const key = calls.parse()[0]?.key
    if (subject === undefined || key === undefined) return 0
    return revokeSessions(store, subject, { except: key }, (operation, call) => calls.call(operation, call))
  })
}

/** The current session's subject: remembered, or one `subjectOf` call (which confirms the session). */
async function currentSubject<Data extends object>(calls: SessionCalls<Data>): Promise<string | undefined> {
  if (calls.subject !== undefined) return calls.subject.value
  const store = subjectStore(calls.layer.store, 'getSubject()')
  const read = await calls.onLive('subject', (key) => store.subjectOf(key))
  calls.subject = { value: read?.subject }
  return read?.subject
}
