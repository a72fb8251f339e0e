/** An entry of a {@link RecencyList}: it carries its own links, so moving it allocates nothing. */
export interface Linked<T> {
  /** Neighbours in recency order (`older` toward the eviction end). */
  older: T | undefined
  newer: T | undefined
}

/**
 * An intrusive doubly linked list in recency order: appending, unlinking and reading the oldest are
 * O(1) without any Map operation. (Re-inserting into a Map on every access instead leaves deleted
 * slots at its front that `keys().next()` must skip: a storm of new sessions then cost ~10 µs per
 * eviction.)
 */
export class RecencyList<T extends Linked<T>> {
  /** Least recently used. */
  oldest: T | undefined
  #newest: T | undefined
  /** Entries linked. */
  size = 0

  /** @param entry - an unlinked entry, now the most recently used */
  append(entry: T): void {
    entry.older = this.#newest
    entry.newer = undefined
    if (this.#newest === undefined) this.oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
    this.size++
  }

  /** @param entry - an entry of this list */
  unlink(entry: T): void {
    if (entry.older === undefined) this.oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === undefined) this.#newest = entry.older
    else entry.newer.older = entry.older
    entry.older = undefined
    entry.newer = undefined
    this.size--
  }

  /** @param entry - an entry of this list, now the most recently used */
  markUsed(entry: T): void {
    if (entry === this.#newest) return
    this.unlink(entry)
    this.append(entry)
  }
}

/** An entry of a {@link SegmentedRecency}. */
export interface Segmented<T> extends Linked<T> {
  /** When it was created (local clock), to tell a later request's use from its creator's. */
  createdAt: number
  /** Used again after its creating request: kept in the protected segment. */
  protected: boolean
}

/** Share of the capacity the protected segment may hold before its oldest go back to probation. */
const PROTECTED_SHARE = 0.8
/**
 * A use this long after creation counts as a later request's. Uses within the creating request
 * (a handler that writes two fields) must not promote, or a storm of such requests would.
 */
const PROMOTE_AFTER_MS = 1000

/**
 * Scan-resistant recency (a segmented LRU), every operation O(1): new entries start on probation and
 * are the first to go; an entry used again by a later request is protected, so a storm of entries
 * that are created and never used again evicts only its own kind.
 */
export class SegmentedRecency<T extends Segmented<T>> {
  readonly #probation = new RecencyList<T>()
  readonly #protected = new RecencyList<T>()
  readonly #maxProtected: number

  /** @param capacity - most entries the owner keeps */
  constructor(capacity: number) {
    this.#maxProtected = Math.max(1, Math.floor(capacity * PROTECTED_SHARE))
  }

  /** @param entry - a new entry, on probation */
  add(entry: T): void {
    this.#probation.append(entry)
  }

  /**
   * @param entry - an entry just used
   * @param now - the local clock
   */
  used(entry: T, now: number): void {
    if (entry.protected) this.#protected.markUsed(entry)
    else if (now - entry.createdAt < PROMOTE_AFTER_MS) this.#probation.markUsed(entry)
    else this.#promote(entry)
  }

  /** @param entry - an entry leaving the owner */
  remove(entry: T): void {
    ;(entry.protected ? this.#protected : this.#probation).unlink(entry)
  }

  /** @returns the entry to evict: probation's least recently used, else protected's */
  victim(): T | undefined {
    return this.#probation.oldest ?? this.#protected.oldest
  }

  /** Used again by a later request: protect it, sending the protected segment's oldest back. */
  #promote(entry: T): void {
    this.#probation.unlink(entry)
    entry.protected = true
    this.#protected.append(entry)
    if (this.#protected.size > this.#maxProtected) {
      const demoted = this.#protected.oldest as T
      this.#protected.unlink(demoted)
      demoted.protected = false
      this.#probation.append(demoted)
    }
  }
}
