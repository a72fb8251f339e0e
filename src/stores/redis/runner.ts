import { type Command, connectionOf, type RedisClient } from './client.js'
import { int } from './replies.js'
import type { RedisScript } from './script.js'

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
  return {
    cluster,
    async run(script, input) {
      const { keys, args } = script.build(input)
      // WAIT cannot run inside a script, so it is pipelined right after it on the same connection.
      const exchange = (command: 'EVALSHA' | 'EVAL', body: string) => {
        const call: Command = [command, body, String(keys.length), ...keys, ...args]
        return send(keys[0], wait !== undefined && script.writes ? [call, wait] : [call])
      }
      let [reply, confirmed] = await exchange('EVALSHA', script.sha)
      // After SCRIPT FLUSH, a restart or a failover the server has forgotten the script. EVAL runs
      // it and caches it again; both attempts belong to one store operation.
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
