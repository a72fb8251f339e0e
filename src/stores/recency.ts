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
