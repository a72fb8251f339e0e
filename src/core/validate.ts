import { SessionConfigError } from './errors.js'

/**
 * Checks one option value: `undefined` when it fits, otherwise what it must be ("must be …").
 * Called only for values that are present; a `required` check is also called for a missing one.
 */
export type Check = ((value: unknown) => string | undefined) & { readonly required?: true }

/** The longest delay `setTimeout` honours; a larger one fires at once. */
const MAX_TIMER_DELAY = 2_147_483_647

/**
 * What a value is, for a message: numbers and booleans as themselves, everything else by its type
 * only (an option value may be a secret or a connection string, and messages never carry those).
 *
 * @param value - any option value
 * @returns e.g. `3600000`, `false`, `a string`, `null`, `an array`
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

const fits = (ok: boolean, must: string, value: unknown): string | undefined =>
  ok ? undefined : `must be ${must} (got ${describeValue(value)})`

/** The option checks, one message shape for all of them: `must be <what> (got <value or type>)`. */
export const checks = {
  boolean: ((value) => fits(typeof value === 'boolean', 'true or false', value)) as Check,
  string: ((value) => fits(typeof value === 'string', 'a string', value)) as Check,
  function: ((value) => fits(typeof value === 'function', 'a function', value)) as Check,
  object: ((value) => fits(isPlainObject(value), 'an object', value)) as Check,
  /** A whole number ≥ 1. */
  positiveInteger: ((value) =>
    fits(Number.isSafeInteger(value) && (value as number) >= 1, 'a whole number ≥ 1', value)) as Check,
  /**
   * Whole seconds from 1 to `max`.
   *
   * @param max - the largest value accepted
   * @returns the check
   */
  seconds: (max = Number.MAX_SAFE_INTEGER): Check =>
    ((value) => {
      const ok = Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max
      return fits(ok, `whole seconds from 1 to ${max}`, value)
    }) as Check,
  /**
   * Milliseconds a timer can wait: finite, above 0 (or 0 when allowed), at most 2^31 − 1.
   *
   * @param options - `zero: true` when `0` means "off"
   * @returns the check
   */
  milliseconds: ({ zero = false }: { zero?: boolean } = {}): Check =>
    ((value) => {
      const ms = value as number
      const ok = typeof value === 'number' && (zero ? ms >= 0 : ms > 0) && ms <= MAX_TIMER_DELAY
      return fits(ok, `milliseconds ${zero ? '≥ 0' : '> 0'} and ≤ ${MAX_TIMER_DELAY}`, value)
    }) as Check,
  /**
   * One of the given strings.
   *
   * @param values - the accepted strings
   * @returns the check
   */
  oneOf: (...values: readonly string[]): Check =>
    ((value) =>
      fits(
        typeof value === 'string' && values.includes(value),
        `one of ${values.map((v) => `'${v}'`).join(', ')}`,
        value,
      )) as Check,
  /**
   * Either of two checks.
   *
   * @param first - tried first; its message is the one reported
   * @param second - the alternative
   * @returns the check
   */
  either: (first: Check, second: Check): Check =>
    ((value) => (second(value) === undefined ? undefined : first(value))) as Check,
  /**
   * The same check, also run when the option is missing.
   *
   * @param check - the check of a present value
   * @returns the check, marked required
   */
  required: (check: Check): Check =>
    Object.assign((value: unknown) => (value === undefined ? 'is required' : check(value)), {
      required: true as const,
    }),
}

/**
 * Reject unknown keys and wrongly typed values of one options object, so that nothing a user writes
 * is silently ignored or misread. An unknown key gets its hint (express-session's names, …) or,
 * when it differs from a known key only in case, "did you mean …".
 *
 * @param owner - the class or function the options belong to, e.g. `'SessionLayer'`
 * @param options - the user's options (`undefined` stands for `{}`)
 * @param spec - every accepted key and its check
 * @param context - `path`: prefix of nested options (`'cookie.'`); `hints`: messages for unknown keys
 * @throws SessionConfigError naming the option (`option` is its path)
 */
export function checkOptions(
  owner: string,
  options: unknown,
  spec: Readonly<Record<string, Check>>,
  context: { path?: string; hints?: Readonly<Record<string, string>> } = {},
): void {
  const path = context.path ?? ''
  if (options === undefined) options = {}
  if (!isPlainObject(options)) {
    throw optionError(owner, path.slice(0, -1) || 'options', `must be an object (got ${describeValue(options)})`)
  }
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(spec, key)) continue
    const hint = context.hints?.[key] ?? closeMatch(key, spec, path)
    throw new SessionConfigError(`${owner}: unknown option ${path}${key}${hint ? ` — ${hint}` : ''}`, {
      option: `${path}${key}`,
    })
  }
  for (const [key, check] of Object.entries(spec)) {
    const value = options[key]
    if (value === undefined && !check.required) continue
    const problem = check(value)
    if (problem !== undefined) throw optionError(owner, `${path}${key}`, problem)
  }
}

/**
 * @param value - an option's value
 * @returns whether it is a promise or another thenable (a store factory called without `await`)
 */
export function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * The error for one option, in the one message style: `<owner>: <option> <problem>`.
 *
 * @param owner - the class or function the options belong to
 * @param option - the option's path, e.g. `cookie.maxAge`
 * @param problem - what it must be, e.g. `must be whole seconds from 1 to 34560000 (got 3600000)`
 * @returns the error, with `option` set
 */
export function optionError(owner: string, option: string, problem: string): SessionConfigError {
  return new SessionConfigError(`${owner}: ${option} ${problem}`, { option })
}

function closeMatch(key: string, spec: Readonly<Record<string, Check>>, path: string): string | undefined {
  const match = Object.keys(spec).find((known) => known.toLowerCase() === key.toLowerCase())
  return match === undefined ? undefined : `did you mean ${path}${match}?`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
