import { kindOf } from './codec.js'
import { SessionConfigError, SessionError } from './errors.js'
import { quoteField } from './fields.js'

/**
 * The Standard Schema interface (https://standardschema.dev), version 1: what Zod, Valibot, ArkType
 * and other validation libraries implement under the `~standard` key. Written out here so no
 * validation library is a dependency of ruts.
 *
 * @typeParam Input - what the schema accepts
 * @typeParam Output - what it produces (after transforms)
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard properties. */
  readonly '~standard': StandardSchemaV1.Props<Input, Output>
}

/** Types of the Standard Schema interface. */
export declare namespace StandardSchemaV1 {
  /** The standard properties of a schema. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version of the interface: 1. */
    readonly version: 1
    /** The library, e.g. `'zod'`. */
    readonly vendor: string
    /** Validate a value; may answer with a promise (async schemas). */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>
    /** Inferred types, for type-level use only. */
    readonly types?: Types<Input, Output> | undefined
  }
  /** The result of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult
  /** A valid value: the schema's output. */
  export interface SuccessResult<Output> {
    readonly value: Output
    readonly issues?: undefined
  }
  /** An invalid value: what is wrong with it. */
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>
  }
  /** One problem a schema found. */
  export interface Issue {
    readonly message: string
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined
  }
  /** A path segment given as an object. */
  export interface PathSegment {
    readonly key: PropertyKey
  }
  /** The type-level input and output. */
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input
    readonly output: Output
  }
  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input']
  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output']
}

/** A Standard Schema per field name. */
export type FieldSchemas = Readonly<Record<string, StandardSchemaV1>>

/**
 * The schemas a layer takes for `Data`: one per field, each producing that field's type. A layer
 * given `fields` infers `Data` from them (each schema's output type).
 */
export type FieldSchemasFor<Data> = { readonly [K in keyof Data]: StandardSchemaV1<unknown, Data[K]> }

/** What the layer does with a stored value its schema rejects. */
export type InvalidFieldHandler = ((field: string, issues: readonly StandardSchemaV1.Issue[]) => void) | 'throw'

/** Issues of a failed validation, or the output of a successful one. */
export type Checked = { ok: true; value: unknown } | { ok: false; issues: readonly StandardSchemaV1.Issue[] }

function checked(result: StandardSchemaV1.Result<unknown>): Checked {
  // A validator that answers no result object breaks the Standard Schema contract: a rejection.
  if (typeof result !== 'object' || result === null) return threw(new TypeError('no validation result'))
  return result.issues === undefined ? { ok: true, value: result.value } : { ok: false, issues: result.issues }
}

/**
 * A schema that throws (or rejects) on a stored value has rejected it: a transform that parses an old
 * shape (`JSON.parse`) throws on data it does not expect. Its error is not kept: its message may quote
 * the stored value (`Unexpected token … "card=41…" is not valid JSON`).
 */
function threw(error: unknown): Checked {
  return { ok: false, issues: [{ message: `the schema threw (${kindOf(error)})` }] }
}

/**
 * The layer's field schemas at run time: names checked on every call, values validated on the way
 * into the store and on the way out. Validators may be async; a sync one is never awaited.
 */
export class FieldValidation {
  readonly #schemas: ReadonlyMap<string, StandardSchemaV1>
  /**
   * How each field's schema has answered reads here: `'async'` once it returned a promise (then for
   * good: `getAll()` validates the field up front), `'sync'` while it never has.
   */
  readonly #answers = new Map<string, 'sync' | 'async'>()
  readonly #onInvalid: Exclude<InvalidFieldHandler, 'throw'> | undefined

  /**
   * @param schemas - one schema per field
   * @param onInvalid - `'throw'`, a handler, or `undefined` for the default (one warning per field)
   * @param warn - where the default handler warns
   */
  constructor(schemas: FieldSchemas, onInvalid: InvalidFieldHandler | undefined, warn: (message: string) => void) {
    this.#schemas = new Map(Object.entries(schemas))
    for (const [field, schema] of this.#schemas) {
      if (typeof schema?.['~standard']?.validate !== 'function') {
        throw new SessionConfigError(`fields.${field} is not a Standard Schema (no ~standard.validate)`)
      }
    }
    if (onInvalid === 'throw') this.#onInvalid = undefined
    else if (onInvalid !== undefined) this.#onInvalid = onInvalid
    else {
      const warned = new Set<string>()
      this.#onInvalid = (field) => {
        if (warned.has(field)) return
        warned.add(field)
        // The field name only: issues may quote the stored value.
        warn(`ruts: session field ${quoteField(field)} holds a value its schema rejects; it is treated as absent`)
      }
    }
  }

  /**
   * @param field - a field name
   * @returns whether the layer has a schema for it
   */
  knows(field: string): boolean {
    return this.#schemas.has(field)
  }

  /**
   * @param field - a field name
   * @throws SessionError `ERR_SESSION_ARGUMENT` for a name without a schema
   */
  assertKnown(field: string): void {
    if (!this.#schemas.has(field)) {
      throw new SessionError('ERR_SESSION_ARGUMENT', `${quoteField(field)} is not one of the layer's fields`)
    }
  }

  /**
   * @param field - a known field
   * @param value - what the caller writes
   * @returns the schema's output, to store, wrapped: a promise must not adopt it (an output with a
   *   `then` method would be awaited, one whose `then` cannot be read would reject)
   * @throws SessionError `ERR_SESSION_VALUE` with the issues when the value is rejected
   */
  async forWrite(field: string, value: unknown): Promise<{ value: unknown }> {
    let result: Checked
    try {
      result = checked(await this.#validate(field, value))
    } catch (error) {
      // A getter that throws, a revoked Proxy: the validator could not read the value. Its error
      // is not kept (it is the caller's code talking about the value).
      throw new SessionError(
        'ERR_SESSION_VALUE',
        `session field ${quoteField(field)}: its value cannot be read (${kindOf(error)})`,
      )
    }
    if (result.ok) return { value: result.value }
    throw invalid(field, result.issues, 'write')
  }

  /**
   * Validate a decoded stored value. Synchronous when the schema is; a promise otherwise.
   *
   * @param field - a field name
   * @param value - the decoded value
   * @returns the schema's output, or `undefined` when rejected (reported to `onInvalid`), or a
   *   promise of either from an async schema
   * @throws SessionError `ERR_SESSION_VALUE` with the issues under `onInvalid: 'throw'`
   */
  forRead(field: string, value: unknown): unknown {
    const result = this.check(field, value)
    return result instanceof Promise
      ? result.then((settled) => this.accept(field, settled))
      : this.accept(field, result)
  }

  /**
   * The first half of {@link forRead}: validate, report nothing yet (`getAll()` validates some fields
   * before it resolves, and reports a rejected one only when the handler reads it).
   *
   * @param field - a field name
   * @param value - the decoded value
   * @returns the outcome, or a promise of it from an async schema
   */
  check(field: string, value: unknown): Checked | Promise<Checked> {
    let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>
    try {
      result = this.#validate(field, value)
    } catch (error) {
      return threw(error)
    }
    const known = this.#schemas.has(field)
    if (result instanceof Promise) {
      if (known) this.#answers.set(field, 'async')
      return result.then(checked, threw)
    }
    if (known && this.#answers.get(field) === undefined) this.#answers.set(field, 'sync')
    return checked(result)
  }

  /**
   * Whether `getAll()` validates this field before it resolves: a field whose schema answered a read
   * with a promise here, or that this process has not read yet (Standard Schema does not say in
   * advance whether a schema is async). A field whose schema answered synchronously stays lazy.
   *
   * @param field - a field name
   * @returns whether to validate it up front
   */
  settlesEarly(field: string): boolean {
    return this.#schemas.has(field) && this.#answers.get(field) !== 'sync'
  }

  /**
   * The second half of {@link forRead}: the value of an outcome, a rejection reported.
   *
   * @param field - a field name
   * @param result - what {@link check} found
   * @returns the schema's output, or `undefined` when rejected (reported to `onInvalid`)
   * @throws SessionError `ERR_SESSION_VALUE` with the issues under `onInvalid: 'throw'`
   */
  accept(field: string, result: Checked): unknown {
    if (result.ok) return result.value
    if (this.#onInvalid === undefined) throw invalid(field, result.issues, 'read')
    this.#onInvalid(field, result.issues)
    return undefined
  }

  #validate(
    field: string,
    value: unknown,
  ): StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>> {
    const schema = this.#schemas.get(field)
    if (schema === undefined) return { issues: [{ message: "not one of the layer's fields" }] }
    return schema['~standard'].validate(value)
  }
}

/**
 * The error for a rejected value. Its issues keep only what Standard Schema defines (`message`, `path`
 * as plain keys): vendors add the input itself (Valibot's `input`, ArkType's `data`). A stored value is
 * server data, so on a read each message is replaced too (Valibot quotes the value in its messages),
 * and so is every property name in the path (a record's keys are part of the value): array indexes
 * stay, names become `'(key)'`. A write keeps the validator's messages and paths, which may quote the
 * value the caller passed. `onInvalid` still gets the validator's own issues.
 */
function invalid(field: string, issues: readonly StandardSchemaV1.Issue[], on: 'read' | 'write'): SessionError {
  const plain = issues.map((issue) => ({
    message: on === 'read' ? 'the stored value does not match the schema here' : String(issue.message),
    path: issue.path?.map((segment) => {
      const key = typeof segment === 'object' ? segment.key : segment
      return on === 'write' || typeof key === 'number' ? key : '(key)'
    }),
  }))
  return new SessionError('ERR_SESSION_VALUE', `session field ${quoteField(field)} does not match its schema`, {
    issues: plain,
  })
}
