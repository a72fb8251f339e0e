import type { Codec } from './codec.js'

/**
 * All live fields of a session, read in one round trip. Values are decoded lazily, on first
 * access, so reading a big session to look at one field does not decode the rest.
 *
 * @example
 * ```ts
 * const all = await session.getAll()
 * if (all?.has('user')) console.log(all.get('user'))
 * for (const [field, value] of all ?? []) …
 * ```
 */
export class SessionMap<Data extends object = Record<string, unknown>>
  implements Iterable<[keyof Data & string, unknown]>
{
  readonly #raw: ReadonlyMap<string, Uint8Array>
  readonly #codec: Codec
  readonly #decoded = new Map<string, unknown>()

  /**
   * @param raw - encoded values by field
   * @param codec - the layer's codec
   */
  constructor(raw: ReadonlyMap<string, Uint8Array>, codec: Codec) {
    this.#raw = raw
    this.#codec = codec
  }

  /** Number of live fields. */
  get size(): number {
    return this.#raw.size
  }

  /**
   * @param field - field name
   * @returns the decoded value, or `undefined` when the field is absent
   */
  get<K extends keyof Data & string>(field: K): Data[K] | undefined {
    if (this.#decoded.has(field)) return this.#decoded.get(field) as Data[K]
    const bytes = this.#raw.get(field)
    if (bytes === undefined) return undefined
    const value = this.#codec.decode(bytes)
    this.#decoded.set(field, value)
    return value as Data[K]
  }

  /**
   * @param field - field name
   * @returns whether the field is live
   */
  has(field: string): boolean {
    return this.#raw.has(field)
  }

  /** @returns the field names */
  keys(): IterableIterator<keyof Data & string> {
    return this.#raw.keys() as IterableIterator<keyof Data & string>
  }

  /** @returns `[field, decodedValue]` pairs */
  *entries(): IterableIterator<[keyof Data & string, unknown]> {
    for (const field of this.#raw.keys()) yield [field as keyof Data & string, this.get(field as keyof Data & string)]
  }

  [Symbol.iterator](): IterableIterator<[keyof Data & string, unknown]> {
    return this.entries()
  }

  /** @returns a plain null-prototype object of every decoded field (safe for `__proto__` names) */
  toObject(): Partial<Data> {
    const object = Object.create(null) as Record<string, unknown>
    for (const [field, value] of this.entries()) object[field] = value
    return object as Partial<Data>
  }
}
