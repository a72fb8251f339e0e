import { randomBytes } from 'node:crypto'
import { type Command, connectionOf, type RedisClient } from './client.js'
import { int } from './replies.js'
import type { RedisScript, ScriptArgument, ScriptCall } from './script.js'

/**
 * How many replicas must confirm a write before the store acknowledges it (`WAIT`), and for how
 * long to wait for them.
 */
export interface WaitForReplicas {
  /** Replicas that must hold the write. */
  replicas: number
  /** Milliseconds `WAIT` may block; must be shorter than the store's `timeout`. */
  timeout: number
}

/** One tiny interface over both libraries: run a script, get its parsed reply. */
export interface ScriptRunner {
  /** `true` for a Cluster client: keys of different sessions may live on different nodes. */
  readonly cluster: boolean
  /**
   * Run a script on the node of its first key: one round trip, `EVALSHA`, or `EVAL` (which also
   * caches the script) when the server replies `NOSCRIPT`. With `waitForReplicas`, a script that
   * writes is followed by `WAIT` in the same round trip.
   *
   * @param script - the script, which builds its keys and arguments and parses its reply
   * @param input - the script's typed input
   * @returns the parsed reply
   * @throws the client's error, or an `Error` when fewer replicas than asked confirmed a write
   */
  run<Input, Output>(script: RedisScript<Input, Output>, input: Input): Promise<Output>
}

/** How long a staging list may outlive a script that never ran (a dropped connection), in ms. */
const STAGING_TTL = '10000'

/**
 * The commands that carry a call's session data to Redis, and the call as `EVALSHA` then sends it.
 * The data goes in `RPUSH` to a list of its own at an extra last key (in the first key's hash slot,
 * unique per call so concurrent calls never share one), as position/value pairs: the stock
 * instrumentations record `RPUSH` as its key and a count of other arguments, never the values.
 * `PEXPIRE` bounds a list whose script never ran; the script deletes it when it does.
 */
function staging(call: ScriptCall, name: () => string): { stage: Command[]; call: ScriptCall } {
  const { keys, args, staged } = call
  if (staged === undefined || staged.length === 0) return { stage: [], call }
  const list = `${keys[0]}:in:${name()}`
  const pairs: ScriptArgument[] = []
  const plain = [...args]
  for (const position of staged) {
    pairs.push(String(position + 1), args[position] ?? '')
    plain[position] = ''
  }
  const stage: Command[] = [
    ['RPUSH', list, ...pairs],
    ['PEXPIRE', list, STAGING_TTL],
  ]
  return { stage, call: { keys: [...keys, list], args: plain } }
}

function isNoScript(reply: unknown): boolean {
  return reply instanceof Error && reply.message.startsWith('NOSCRIPT')
}

/**
 * Adapt a user's client to {@link ScriptRunner}.
 *
 * @param client - an ioredis or node-redis client, cluster or Sentinel client
 * @param waitForReplicas - replicas every write must reach before it is acknowledged
 * @returns the runner
 * @throws TypeError when `client` is neither library's
 */
export function createScriptRunner(client: RedisClient, waitForReplicas?: WaitForReplicas): ScriptRunner {
  const { cluster, send } = connectionOf(client)
  const wait: Command | undefined =
    waitForReplicas === undefined
      ? undefined
      : ['WAIT', String(waitForReplicas.replicas), String(waitForReplicas.timeout)]
  // Staging list names: random per runner, then a counter, so no two calls ever share one.
  const nonce = randomBytes(6).toString('base64url')
  let calls = 0
  const name = () => `${nonce}:${(calls++).toString(36)}`
  return {
    cluster,
    async run(script, input) {
      const { stage, call } = staging(script.build(input), name)
      const { keys, args } = call
      // The staging commands, the script and WAIT (which cannot run inside a script) go out back
      // to back on one connection: one round trip.
      const exchange = async (command: 'EVALSHA' | 'EVAL', body: string) => {
        const evaluate: Command = [command, body, String(keys.length), ...keys, ...args]
        const replies = await send(keys[0], [
          ...stage,
          evaluate,
          ...(wait !== undefined && script.writes ? [wait] : []),
        ])
        const failed = replies.slice(0, stage.length).find((reply) => reply instanceof Error)
        if (failed !== undefined) throw failed
        return replies.slice(stage.length)
      }
      let [reply, confirmed] = await exchange('EVALSHA', script.sha)
      // After SCRIPT FLUSH, a restart or a failover the server has forgotten the script. EVAL runs
      // it and caches it again; both attempts belong to one store operation (the staging list is
      // pushed again: the same pairs twice put the same values back).
      if (isNoScript(reply)) [reply, confirmed] = await exchange('EVAL', script.source)
      if (reply instanceof Error) throw reply
      if (confirmed instanceof Error) throw confirmed
      if (waitForReplicas !== undefined && script.writes && int(confirmed) < waitForReplicas.replicas) {
        // Written on the primary, not confirmed by enough replicas: a failover could drop it.
        throw new Error(`the write reached ${int(confirmed)} of ${waitForReplicas.replicas} replicas`)
      }
      return script.parse(reply)
    },
  }
}
