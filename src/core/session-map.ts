import { type Codec, decodeField } from './codec.js'
import { SessionError } from './errors.js'
import { quoteField } from './fields.js'
import type { Checked, FieldValidation } from './schema.js'

/**
 * Validate, before the map is handed out, the fields whose schema is or may be async (see
 * `FieldValidation.settlesEarly`): the map's reads are synchronous.
 */
let settleFields: (map: SessionMap<object>) => Promise<void>

/**
 * @internal A session's map, as `getAll()` resolves it.
 * @param raw - encoded values by field
 * @param codec - the layer's codec
 * @param fields - the layer's field schemas, if any
 * @returns the map, its fields validated when there are schemas
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

/** A field's validation outcome, or what decoding it threw. */
type Settled = Checked | { ok: 'failed'; error: unknown }

/**
 * All live fields of a session, read in one round trip. Values are decoded lazily, on first access,
 * so reading a big session to look at one field does not decode the rest. With field schemas each
 * value is validated on first access too, and a rejected value is reported (`onInvalid`, or thrown
 * under `'throw'`) then; such a field, or one without a schema, is absent from `get`, `has`, `keys`,
 * iteration and `size`. A field whose schema is async (or that this process has not read yet: a
 * schema does not say in advance) is validated before `getAll()` resolves, concurrently with the
 * others, its rejection still reported only on access.
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
  readonly #fields: FieldValidation | undefined
  readonly #decoded = new Map<string, unknown>()
  /** With schemas: the outcome of each field validated before the map was handed out. */
  readonly #settled = new Map<string, Settled>()

  static {
    settleFields = async (map) => {
      const fields = map.#fields
      if (fields === undefined) return
      const pending: Promise<void>[] = []
      for (const [field, bytes] of map.#raw) {
        if (!fields.settlesEarly(field)) continue
        let outcome: Settled | Promise<Checked>
        try {
          outcome = fields.check(field, decodeField(map.#codec, field, bytes))
        } catch (error) {
          outcome = { ok: 'failed', error }
        }
        if (outcome instanceof Promise) {
          pending.push(
            outcome.then(
              (result) => void map.#settled.set(field, result),
              (error: unknown) => void map.#settled.set(field, { ok: 'failed', error }),
            ),
          )
        } else {
          map.#settled.set(field, outcome)
        }
      }
      if (pending.length > 0) await Promise.all(pending)
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
    const bytes = this.#raw.get(field)
    if (bytes === undefined) return undefined
    const fields = this.#fields
    let value: unknown
    if (fields === undefined) {
      value = decodeField(this.#codec, field, bytes)
    } else {
      // A field the schemas do not name (a deploy removed it) is not part of Data: absent.
      if (!fields.knows(field)) return undefined
      let settled: Settled | Promise<Checked> | undefined = this.#settled.get(field)
      if (settled === undefined) {
        settled = fields.check(field, decodeField(this.#codec, field, bytes))
        if (settled instanceof Promise) {
          // A schema that answered synchronously before, async for this value: from now on getAll()
          // validates this field before it resolves; this read cannot wait for it.
          settled.catch(() => undefined)
          throw new SessionError(
            'ERR_SESSION_UNSUPPORTED',
            `field ${quoteField(field)} has an async schema for this value: read it with session.get() this time`,
          )
        }
      }
      if (settled.ok === 'failed') throw settled.error
      value = fields.accept(field, settled)
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
