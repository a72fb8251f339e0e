import { createHash } from 'node:crypto'
import { PRELUDE, UNSTAGE } from './lua.js'

/** A script argument: text, or raw bytes (values are binary). */
export type ScriptArgument = string | Buffer

/**
 * Status codes of script replies, defined once. Every script's Lua declares them as constants
 * (`MISSING`, `OK`, `EXISTS`, `COLLISION`, `INVALID`, `KEPT`, `MOVED`, `FULL`) and every parser reads them back through
 * {@link statusOf}, so a status is never a bare number on either side.
 */
export const STATUS = {
  /** No live session at the key (or nothing to move). */
  missing: 0,
  /** The operation happened: found, written, renamed, placed, deleted. */
  ok: 1,
  /** An `insert` found a live value and left it alone. */
  exists: 2,
  /** The target key of a create or rename already holds a live session. */
  collision: 3,
  /** An increment found no safe integer in the field, or the sum would leave the safe range. */
  invalid: 4,
  /** A bind found the session already bound to the subject: meta replaced, key unchanged. */
  kept: 5,
  /** The key holds no session but a marker naming where a bound session is being moved (Cluster). */
  moved: 6,
  /** A write would add a field to a session that holds `maxFields` live fields already. */
  full: 7,
} as const

/** The name of a reply status. */
export type Status = keyof typeof STATUS

const STATUS_LUA = Object.entries(STATUS)
  .map(([name, code]) => `local ${name.toUpperCase()} = ${code}`)
  .join('\n')

const STATUS_BY_CODE = new Map<unknown, Status>(Object.entries(STATUS).map(([name, code]) => [code, name as Status]))

/**
 * The status a reply element carries.
 *
 * @param code - the element as the client returned it
 * @returns its name
 * @throws TypeError for anything but a known status code (a protocol mismatch)
 */
export function statusOf(code: unknown): Status {
  const status = STATUS_BY_CODE.get(code)
  if (status === undefined) throw new TypeError('unexpected script reply')
  return status
}

/** Keys and arguments of one script call, as `EVALSHA` sends them. */
export interface ScriptCall {
  readonly keys: readonly string[]
  readonly args: readonly ScriptArgument[]
  /**
   * Positions (0-based) in `args` that carry session data (a value, a taken session). The runner
   * sends those through a staging list instead of as `EVALSHA` arguments, which Redis client
   * instrumentations record; the script finds `ARGV` as if they had been sent directly.
   */
  readonly staged?: readonly number[]
}

/**
 * One Redis script with its whole protocol: source, number of keys, a typed argument builder and a
 * reply parser returning the store's result type (the shape of node-redis' `defineScript`).
 * The same Lua exists in two forms: a function library (Redis 7+, `FCALL function`, loaded with
 * `FUNCTION LOAD` when the server lacks it) and an `EVAL` script (Redis 6.2, or where `FUNCTION`
 * is denied: `EVALSHA sha`, `EVAL source` after `NOSCRIPT`). A runner picks one, sends `build`'s
 * keys and arguments, and hands the raw reply to `parse`.
 */
export interface RedisScript<Input, Output> {
  /** Short name, for errors and traces. */
  readonly name: string
  /** The full Lua text as an `EVAL` script: prelude, status constants, helpers, unstaging and body. */
  readonly source: string
  /** SHA-1 of `source`, for `EVALSHA`. */
  readonly sha: string
  /**
   * The same Lua as a function library for `FUNCTION LOAD`: prelude, status constants and helpers
   * run once when the library loads, and only the body runs per call.
   */
  readonly library: string
  /**
   * The library's one function, for `FCALL`. Its name (also the library's) carries a hash of the
   * library, so two versions of the store sharing a server never replace each other's functions.
   */
  readonly function: string
  /** How many of the sent arguments are keys; on a Cluster they must share one slot. */
  readonly numberOfKeys: number
  /** `true` when the script changes data, so `waitForReplicas` makes replicas confirm it. */
  readonly writes: boolean
  /** `true` for an undo of a failed step (see {@link ScriptDefinition.restores}). */
  readonly restores: boolean
  /**
   * Keys and arguments for one call.
   * @param input - the typed input
   * @returns what to send
   */
  build(input: Input): ScriptCall
  /**
   * The store's result from the raw reply.
   * @param reply - the reply as the client returned it (bulk strings as `Buffer`s)
   * @returns the typed result
   * @throws TypeError when the reply does not have the script's shape
   */
  parse(reply: unknown): Output
}

/** What {@link defineScript} needs: everything but the computed `source` and `sha`. */
export interface ScriptDefinition<Input, Output> {
  readonly name: string
  /**
   * Helper functions the body uses (e.g. `SUBJECT_LUA`). In a function library they are defined
   * once, when the library loads; in an `EVAL` script, on every call.
   */
  readonly lua?: string
  /** The script's own Lua, run per call with `KEYS` and `ARGV`; prelude, constants and helpers are put in front of it. */
  readonly body: string
  readonly numberOfKeys: number
  /**
   * Whether the script changes data that must survive a failover. A read that only extends the
   * session's expiry (touch) does not count: losing it shortens a lifetime, never resurrects data.
   */
  readonly writes: boolean
  /**
   * The Lua never writes, not even a touch or a clean-up: the function is registered `no-writes`, so a
   * primary that refuses writes (too few replicas, out of memory) still runs it.
   */
  readonly readOnly?: boolean
  /**
   * The script only puts back what a failed step of the same operation took (a rename's give-back).
   * It goes out even while replicas cannot confirm writes, and without `WAIT`: the operation fails
   * either way, and a confirmation would only decide whether the session survives a failover, where
   * an unconfirmed undo still leaves it on the primary that users keep reaching.
   */
  readonly restores?: boolean
  build(input: Input): ScriptCall
  parse(reply: unknown): Output
}

const LIBRARIES: string[] = []

/**
 * Every function library defined so far: the store's scripts are all defined when its modules load.
 * A Cluster runner loads them on every master at once (see `createScriptRunner`).
 *
 * @returns the libraries' code, for `FUNCTION LOAD`
 */
export function everyLibrary(): readonly string[] {
  return LIBRARIES
}

/**
 * Define a session script.
 *
 * @param definition - name, Lua body, number of keys, argument builder and reply parser
 * @returns the script, whose `build` checks the number of keys it produces
 * @example
 * ```ts
 * const DELETE = defineScript({
 *   name: 'delete',
 *   numberOfKeys: 1,
 *   writes: true,
 *   body: `redis.call('DEL', KEYS[1]) return OK`,
 *   build: (key: string) => ({ keys: [key], args: [] }),
 *   parse: (reply) => statusOf(reply) === 'ok',
 * })
 * ```
 */
export function defineScript<Input, Output>(definition: ScriptDefinition<Input, Output>): RedisScript<Input, Output> {
  const helpers = `${PRELUDE}\n${STATUS_LUA}\n${definition.lua ?? ''}`
  const source = `${helpers}${UNSTAGE}\nunstage()\n${definition.body}`
  const flags = definition.readOnly === true ? ", flags = {'no-writes'}" : ''
  const registration = (name: string) =>
    `${helpers}\nredis.register_function{function_name = '${name}'${flags}, callback = function(KEYS, ARGV)\n${definition.body}\nend}\n`
  // The name hashes the library's code (with a placeholder for the name itself).
  const name = `ruts_${createHash('sha1').update(registration('')).digest('hex')}`
  const library = `#!lua name=${name}\n${registration(name)}`
  if (!LIBRARIES.includes(library)) LIBRARIES.push(library)
  return {
    name: definition.name,
    source,
    sha: createHash('sha1').update(source).digest('hex'),
    library,
    function: name,
    numberOfKeys: definition.numberOfKeys,
    writes: definition.writes,
    restores: definition.restores === true,
    build(input) {
      const call = definition.build(input)
      // A wrong count would silently shift an argument into KEYS (or out of it).
      if (call.keys.length !== definition.numberOfKeys) throw new TypeError(`${definition.name}: wrong number of keys`)
      return call
    },
    parse: definition.parse,
  }
}

/**
 * Seconds as the whole milliseconds the scripts take.
 *
 * @param seconds - a duration in seconds
 * @returns the duration in ms, as text
 */
export function milliseconds(seconds: number): string {
  return String(Math.round(seconds * 1000))
}
