import { type Codec, decodeField } from './codec.js'
import { SessionError } from './errors.js'
import type { FieldValidation } from './schema.js'

/**
 * All live fields of a session, read in one round trip. Values are decoded lazily, on first
 * access, so reading a big session to look at one field does not decode the rest. With field
 * schemas each value is validated on first access too: a field whose stored value its schema
 * rejects (or that has no schema) is absent from `get`, `has`, `keys`, iteration and `size`. A field
 * whose schema is async is validated before `getAll()` resolves (so is every field the first time
 * this process reads it: a schema does not say in advance whether it is async).
 *
 * @example
 * ```ts
 * const all = await session.getAll()
 * if (all?.has('user')) console.log(all.get('user'))
 * for (const [field, value] of all ?? []) …
 * ```
 */
/**
 * Validate, before the map is handed out, the fields whose schema is or may be async (see
 * `FieldValidation.settlesEarly`), so its synchronous reads can answer them.
 */
let settleFields: (map: SessionMap<object>) => Promise<void>

/**
 * @internal A session's map, as `getAll()` resolves it.
 * @param raw - encoded values by field
 * @param codec - the layer's codec
 * @param fields - the layer's field schemas, if any
 * @returns the map, its async fields validated
 */
export async function readSessionMap<Data extends object>(
  raw: ReadonlyMap<string, Uint8Array>,
  codec: Codec,
  fields: FieldValidation | undefined,
): Promise<SessionMap<Data>> {
  const map = new SessionMap<Data>(raw, codec, fields)
  await settleFields(map as unknown as SessionMap<object>)
  return map
}

export class SessionMap<Data extends object = Record<string, unknown>>
  implements Iterable<[keyof Data & string, unknown]>
{
  readonly #raw: ReadonlyMap<string, Uint8Array>
  readonly #codec: Codec
  readonly #fields: FieldValidation | undefined
  readonly #decoded = new Map<string, unknown>()
  /** What validating a field up front threw, thrown again when the field is read. */
  #failed: Map<string, unknown> | undefined

  static {
    settleFields = async (map) => {
      const fields = map.#fields
      if (fields === undefined) return
      for (const [field, bytes] of map.#raw) {
        if (!fields.settlesEarly(field)) continue
        try {
          map.#decoded.set(field, await fields.forRead(field, decodeField(map.#codec, field, bytes)))
        } catch (error) {
          map.#failed ??= new Map()
          map.#failed.set(field, error)
        }
      }
    }
  }

  /**
   * @param raw - encoded values by field
   * @param codec - the layer's codec
   * @param fields - the layer's field schemas, if any
   */
  constructor(raw: ReadonlyMap<string, Uint8Array>, codec: Codec, fields?: FieldValidation) {
    this.#raw = raw
    this.#codec = codec
    this.#fields = fields
  }

  /** Number of live fields (with schemas: of valid ones, which validates them all). */
  get size(): number {
    if (this.#fields === undefined) return this.#raw.size
    let size = 0
    for (const _ of this.keys()) size++
    return size
  }

  /**
   * @param field - field name
   * @returns the decoded value, or `undefined` when the field is absent
   */
  get<K extends keyof Data & string>(field: K): Data[K] | undefined {
    if (this.#decoded.has(field)) return this.#decoded.get(field) as Data[K]
    if (this.#failed?.has(field)) throw this.#failed.get(field)
    const bytes = this.#raw.get(field)
    if (bytes === undefined) return undefined
    let value = decodeField(this.#codec, field, bytes)
    const fields = this.#fields
    if (fields !== undefined) {
      // A field the schemas do not name (a deploy removed it) is not part of Data: absent.
      value = fields.knows(field) ? fields.forRead(field, value) : undefined
      if (value instanceof Promise) {
        value.catch(() => undefined)
        throw new SessionError(
          'ERR_SESSION_UNSUPPORTED',
          `field "${field}" has an async schema: read it with session.get(), not getAll()`,
        )
      }
    }
    this.#decoded.set(field, value)
    return value as Data[K]
  }

  /**
   * @param field - field name
   * @returns whether the field is live (and, with schemas, valid)
   */
  has(field: string): boolean {
    if (this.#fields === undefined) return this.#raw.has(field)
    return this.get(field as keyof Data & string) !== undefined
  }

  /** @returns the field names */
  *keys(): IterableIterator<keyof Data & string> {
    for (const field of this.#raw.keys()) if (this.has(field)) yield field as keyof Data & string
  }

  /** @returns `[field, decodedValue]` pairs */
  *entries(): IterableIterator<[keyof Data & string, unknown]> {
    for (const field of this.keys()) yield [field, this.get(field)]
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
