import type { RevokeTarget, SessionKey, SubjectSession } from '../core/store.js'

/** What {@link SubjectIndex} needs of a `MemoryStore` entry. */
export interface SubjectMember {
  key: SessionKey
  expiresAt: number
  /** Local clock, as every time of the memory store. */
  createdAt: number
  lastActiveAt: number
  subject: string | undefined
  /** JSON text of the metadata, while bound. */
  meta: string | undefined
}

/** Prune a subject's set on bind once it holds this many entries (and twice as many as after the last prune). */
const MIN_PRUNE_SIZE = 16

/**
 * The subjects of a `MemoryStore`: for each subject the set of its entries. The store tells the index
 * when an entry dies ({@link SubjectIndex.leave} from its drop), so the set holds live entries and
 * at most the expired ones not seen since; `list` drops those, and `bind` does once a set doubled
 * since its last prune (amortised O(1) per bind), so a subject with thousands of logins stays
 * bounded by its live sessions. Every method runs without awaiting: one atomic step.
 */
export class SubjectIndex<E extends SubjectMember> {
  readonly #members = new Map<string, Set<E>>()
  /** Per subject: the set size at which a bind prunes next. */
  readonly #pruneAt = new Map<string, number>()
  readonly #end: (entry: E) => void

  /** @param end - removes an entry from the store (and, through {@link leave}, from the index) */
  constructor(end: (entry: E) => void) {
    this.#end = end
  }

  /**
   * Bind a live entry to `subject` (leaving the subject it had), replace its meta, mark it active,
   * and end the least recently active others beyond `maxSessions`.
   *
   * @returns the keys of the live sessions `maxSessions` ended
   */
  bind(entry: E, subject: string, meta: string, now: number, maxSessions: number | undefined): SessionKey[] {
    if (entry.subject !== subject) {
      this.leave(entry)
      entry.subject = subject
      let members = this.#members.get(subject)
      if (members === undefined) {
        members = new Set()
        this.#members.set(subject, members)
      }
      members.add(entry)
    }
    entry.meta = meta
    entry.lastActiveAt = now
    const members = this.#members.get(subject) as Set<E>
    if (members.size >= (this.#pruneAt.get(subject) ?? MIN_PRUNE_SIZE)) this.#prune(subject, now)
    if (maxSessions === undefined || members.size <= maxSessions) return []
    const others = this.#live(subject, now).filter((member) => member !== entry)
    const excess = others.length + 1 - maxSessions
    if (excess <= 0) return []
    const victims = others.sort((a, b) => a.lastActiveAt - b.lastActiveAt).slice(0, excess)
    return victims.map((victim) => this.#endLive(victim))
  }

  /** Take an entry out of its subject (it died, or is bound elsewhere now). */
  leave(entry: E): void {
    const subject = entry.subject
    if (subject === undefined) return
    const members = this.#members.get(subject)
    members?.delete(entry)
    if (members?.size === 0) {
      this.#members.delete(subject)
      this.#pruneAt.delete(subject)
    }
    entry.subject = undefined
    entry.meta = undefined
  }

  /** @returns the subject's live sessions, most recently active first; dead entries are dropped */
  list(subject: string, now: number): SubjectSession[] {
    return this.#live(subject, now)
      .sort((a, b) => b.lastActiveAt - a.lastActiveAt)
      .map((entry) => ({
        key: entry.key,
        createdAt: entry.createdAt,
        lastActiveAt: entry.lastActiveAt,
        expiresAt: entry.expiresAt,
        meta: entry.meta as string,
      }))
  }

  /**
   * End the subject's live sessions in `target`.
   *
   * @param lookup - the store's entry under a key, live or not
   * @returns the keys of the live sessions ended
   */
  revoke(subject: string, target: RevokeTarget, now: number, lookup: (key: SessionKey) => E | undefined): SessionKey[] {
    const members = this.#members.get(subject)
    if (members === undefined) return []
    const chosen =
      target.keys === undefined
        ? [...members]
        : target.keys.map(lookup).filter((entry): entry is E => entry?.subject === subject)
    const ended: SessionKey[] = []
    for (const entry of chosen) {
      if (entry.key === target.except || entry.subject !== subject) continue
      if (entry.expiresAt > now) ended.push(this.#endLive(entry))
      else this.#end(entry)
    }
    return ended
  }

  /** @returns the entries the index holds for `subject`, live or not yet pruned */
  size(subject: string): number {
    return this.#members.get(subject)?.size ?? 0
  }

  /** The subject's live entries; the dead ones are ended on the way. */
  #live(subject: string, now: number): E[] {
    this.#prune(subject, now)
    return [...(this.#members.get(subject) ?? [])]
  }

  #prune(subject: string, now: number): void {
    const members = this.#members.get(subject)
    if (members === undefined) return
    for (const entry of members) if (entry.expiresAt <= now) this.#end(entry)
    if (this.#members.has(subject)) this.#pruneAt.set(subject, Math.max(MIN_PRUNE_SIZE, members.size * 2))
  }

  #endLive(entry: E): SessionKey {
    const key = entry.key
    this.#end(entry)
    return key
  }
}
