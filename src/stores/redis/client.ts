import type { RedisScript, ScriptArgument } from './script.js'

/**
 * The part of an ioredis `Redis` or `Cluster` the store uses. `callBuffer` returns bulk strings as
 * `Buffer`s (values are binary) and a `Cluster` routes `EVALSHA` by its first key.
 */
export interface IORedisClient {
  callBuffer(command: string, args: (string | Buffer | number)[]): Promise<unknown>
  readonly isCluster: boolean
}

/** The part of a node-redis (v4 or v5) `createClient()` client the store uses. */
export interface NodeRedisClient {
  sendCommand(args: Buffer[] | string[], options?: object): Promise<unknown>
}

/** The part of a node-redis (v4 or v5) `createCluster()` cluster the store uses. */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: Buffer[] | string[],
    options?: object,
  ): Promise<unknown>
  readonly masters: unknown
}

/**
 * A Redis client built by the user: ioredis `new Redis()` / `new Cluster()`, or node-redis
 * `createClient()` / `createCluster()` (v4 and v5). The store only sends `EVALSHA`/`EVAL` with it;
 * it never connects, closes or reconfigures it.
 */
export type RedisClient = IORedisClient | NodeRedisClient | NodeRedisCluster

/** One tiny interface over both libraries: run a script, get its raw reply. */
export interface ScriptRunner {
  /** `true` for a Cluster client: keys of different sessions may live on different nodes. */
  readonly cluster: boolean
  /**
   * Run a script on the node of its first key: one round trip, `EVALSHA`, or `EVAL` (which also
   * caches the script) when the server replies `NOSCRIPT`.
   *
   * @param script - the script, which builds its keys and arguments and parses its reply
   * @param input - the script's typed input
   * @returns the parsed reply
   */
  run<Input, Output>(script: RedisScript<Input, Output>, input: Input): Promise<Output>
}

// node-redis v5 picks reply types through a type mapping; 36 is RESP_TYPES.BLOB_STRING (`$`). The
// constant is inlined so this module needs no runtime import of `redis`. v4 reads `returnBuffers`
// instead; each version ignores the other's option.
const BUFFER_REPLIES = { returnBuffers: true, typeMapping: { 36: Buffer } }

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

type Send = (
  command: 'EVALSHA' | 'EVAL',
  body: string,
  keys: readonly string[],
  args: readonly ScriptArgument[],
) => Promise<unknown>

/**
 * Adapt a user's client to {@link ScriptRunner}.
 *
 * @param client - an ioredis or node-redis client or cluster
 * @returns the runner
 * @throws TypeError when `client` is neither
 */
export function createScriptRunner(client: RedisClient): ScriptRunner {
  let send: Send
  let cluster: boolean
  if ('callBuffer' in client && typeof client.callBuffer === 'function') {
    cluster = client.isCluster === true
    send = (command, body, keys, args) => client.callBuffer(command, [body, keys.length, ...keys, ...args])
  } else if ('masters' in client) {
    cluster = true
    send = (command, body, keys, args) =>
      client.sendCommand(keys[0], false, toArgs(command, body, keys, args), BUFFER_REPLIES)
  } else if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    cluster = false
    send = (command, body, keys, args) => client.sendCommand(toArgs(command, body, keys, args), BUFFER_REPLIES)
  } else {
    throw new TypeError('RedisStore needs an ioredis or node-redis client')
  }
  return {
    cluster,
    async run(script, input) {
      const { keys, args } = script.build(input)
      let reply: unknown
      try {
        reply = await send('EVALSHA', script.sha, keys, args)
      } catch (error) {
        // After SCRIPT FLUSH, a restart or a failover the server has forgotten the script. EVAL runs
        // it and caches it again; both attempts belong to one store operation.
        if (!isNoScript(error)) throw error
        reply = await send('EVAL', script.source, keys, args)
      }
      return script.parse(reply)
    },
  }
}

function toArgs(command: string, body: string, keys: readonly string[], args: readonly ScriptArgument[]): Buffer[] {
  const parts: ScriptArgument[] = [command, body, String(keys.length), ...keys, ...args]
  return parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))
}
