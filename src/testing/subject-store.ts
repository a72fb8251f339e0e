import type { TestContext } from 'vitest'
import { createSessionId } from '../core/ids.js'
import type { BindOptions, SessionKey, SessionStore, StoreCapability, SubjectSession } from '../core/store.js'
import { storeSupports } from '../core/store.js'

/** A store with the `subjects` capability. */
export type SubjectStore = SessionStore &
  Required<Pick<SessionStore, 'bind' | 'subjectOf' | 'listSubject' | 'revokeSubject'>>

/** What the subject cases of the conformance suite receive. */
export interface SubjectSuite {
  /** The suite's store when it has the capability; the test is skipped with the caller's reason otherwise. */
  capable: (context: TestContext) => Promise<SubjectStore>
  /** The store's report of a subject's index size, when the suite's caller gave one. */
  indexSize: ((store: SessionStore, subject: string) => number | Promise<number>) | undefined
  /** Another instance over the same backends, when the suite's caller gave one. */
  twin: (() => SessionStore | Promise<SessionStore>) | undefined
}

export const HOUR = 3600

/**
 * @param setup - resolves the suite's store
 * @param skipReasons - capabilities the caller declared unsupported
 * @param indexSize - the caller's `subjectIndexSize` hook
 * @param twin - the caller's second instance
 * @returns the helpers every subject case uses
 */
export function subjectSuite(
  setup: () => Promise<SessionStore>,
  skipReasons: Partial<Record<StoreCapability, string>>,
  indexSize: SubjectSuite['indexSize'],
  twin: SubjectSuite['twin'],
): SubjectSuite {
  return {
    indexSize,
    twin,
    capable: async (context) => {
      const s = await setup()
      const reason = skipReasons.subjects
      if (reason !== undefined) context.skip(reason)
      if (!storeSupports(s, 'subjects')) {
        throw new Error(
          `${s.name} lacks bind/subjectOf/listSubject/revokeSubject: implement them or pass skipCapabilities.subjects`,
        )
      }
      return s as SubjectStore
    },
  }
}

/**
 * A fresh subject per test (the suite's cases run concurrently on one store), spelled with what a
 * store must keep opaque: a Redis hash tag, separators, spaces and non-ASCII text.
 *
 * @param label - what the test calls it
 * @returns a unique subject
 */
export const newSubject = (label: string): string => `user:{${label}} ${createSessionId()} é✓`

/** Options of a bind that creates the session at the key. */
export const creating = (subject: string, meta = '{}', extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'create',
  subject,
  meta,
  sessionTtl: HOUR,
  ...extra,
})

/** Options of a bind of the live session at `from`. */
export const moving = (
  from: SessionKey,
  subject: string,
  meta = '{}',
  extra: Partial<BindOptions> = {},
): BindOptions => ({
  session: 'existing',
  renameFrom: from,
  subject,
  meta,
  sessionTtl: HOUR,
  ...extra,
})

/** @returns the keys of a listing, in its order */
export const keysOf = (list: readonly SubjectSession[]): SessionKey[] => list.map((session) => session.key)

/** @returns the keys sorted, to compare sets */
export const sorted = (keys: readonly SessionKey[]): SessionKey[] => [...keys].sort()
