import type { ScriptArgument } from './script.js'
import { slotOf } from './slot.js'

/**
 * The part of an ioredis `Redis` (also with `sentinels`) or `Cluster` the store uses. `callBuffer`
 * returns bulk strings as `Buffer`s (values are binary); a `Cluster` routes `EVALSHA`, and a
 * pipeline holding it, by its first key.
 */
export interface IORedisClient {
  callBuffer(command: string, args: (string | Buffer | number)[]): Promise<unknown>
  pipeline(): IORedisPipeline
  readonly isCluster: boolean
  /** A `Cluster`'s slot table: per slot, the master's `host:port` first. */
  readonly slots?: readonly (readonly string[] | undefined)[]
  /** The client's options; only `enableAutoPipelining` is read (see {@link connectionOf}). */
  readonly options?: { readonly enableAutoPipelining?: boolean | undefined } | undefined
  /** A `Cluster`'s connections to its masters (those it knows now). */
  nodes?(role: 'master'): readonly IORedisClient[]
}

/** The part of an ioredis pipeline the store uses (only with `waitForReplicas`). */
export interface IORedisPipeline {
  callBuffer(command: string, args: (string | Buffer | number)[]): unknown
  exec(): Promise<[Error | null, unknown][] | null>
}

/** The part of a node-redis (v4, v5 or v6) `createClient()` client the store uses. */
export interface NodeRedisClient {
  sendCommand(args: (string | Buffer)[], options?: object): Promise<unknown>
}

/** The part of a node-redis (v4, v5 or v6) `createCluster()` cluster the store uses. */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: (string | Buffer)[],
    options?: object,
  ): Promise<unknown>
  /** The masters the cluster knows now. */
  readonly masters: unknown
  /** The master serving a slot, by its address (v4 to v6). */
  getSlotMaster?(slot: number): { readonly address?: string } | undefined
  /** The client of one of {@link masters} (v4 may return it at once). */
  nodeClient?(node: unknown): NodeRedisClient | Promise<NodeRedisClient>
}

/** A node-redis v5 Sentinel client leased by {@link NodeRedisSentinel.use}. */
export interface NodeRedisSentinelLease {
  sendCommand(isReadonly: boolean | undefined, args: (string | Buffer)[], options?: object): Promise<unknown>
}

/** One master connection of a node-redis v5 Sentinel client's pool (a plain node-redis client). */
interface NodeRedisSentinelConnection {
  sendCommand(args: (string | Buffer)[], options?: object): Promise<unknown>
}

/** The part of a node-redis v5 `createSentinel()` client the store uses. */
export interface NodeRedisSentinel extends NodeRedisSentinelLease {
  use<T>(work: (client: NodeRedisSentinelLease) => Promise<T>): Promise<T>
  getMasterNode(): unknown
  /**
   * node-redis's own path for commands and pipelines (`sendCommand`, `execAsPipeline`): runs `work`
   * with one master connection. Internal to node-redis, hence optional: `use` is the fallback.
   */
  _execute?<T>(isReadonly: boolean, work: (connection: NodeRedisSentinelConnection) => Promise<T>): Promise<T>
}

/**
 * A Redis client built by the user: ioredis `new Redis()` (standalone or `sentinels`) /
 * `new Cluster()`, or node-redis `createClient()` / `createCluster()` (v4 to v6) /
 * `createSentinel()` (v5). The store only sends `FCALL`/`FUNCTION LOAD` (Redis 7+) or
 * `EVALSHA`/`EVAL` with their staging commands, and `WAIT`, with it; it never connects, closes or
 * reconfigures it.
 */
export type RedisClient = IORedisClient | NodeRedisClient | NodeRedisCluster | NodeRedisSentinel

/** One command: its name, then its arguments. */
export type Command = readonly ScriptArgument[]

/**
 * Send commands back to back on the connection to the node serving `key`, without waiting in
 * between (one round trip). Each command's reply comes back in order; an error reply, or a failure
 * to send, comes back as the `Error` in its place. A client that holds commands back (node-redis'
 * Sentinel client while it moves to a new primary) asks `expired` before it sends them, and sends
 * nothing once the store's deadline has passed: the caller was told the call failed.
 */
export type Send = (
  key: string | undefined,
  commands: readonly Command[],
  expired?: () => boolean,
) => Promise<unknown[]>

/** A user's client as {@link Send}, and whether keys may live on different nodes. */
export interface Connection {
  readonly cluster: boolean
  readonly send: Send
  /**
   * On a Cluster: the address of the master that serves `key` in the client's slot table now, or
   * `undefined` when the client does not know yet.
   */
  readonly nodeOf?: (key: string) => string | undefined
  /**
   * On a Cluster: send `commands` to every master the client knows now, each as one exchange; per
   * master, its replies (or the `Error` that kept it from answering).
   */
  readonly everyMaster?: (commands: readonly Command[]) => Promise<unknown[][]>
}

/** A slot table lookup that never throws (a client may not have loaded its table yet). */
function nodeLookup(lookup: (slot: number) => string | undefined): (key: string) => string | undefined {
  return (key) => {
    try {
      return lookup(slotOf(key))
    } catch {
      return undefined
    }
  }
}

// node-redis v5 picks reply types through a type mapping; 36 is RESP_TYPES.BLOB_STRING (`$`). The
// constant is inlined so this module needs no runtime import of `redis`. v4 reads `returnBuffers`
// instead; each version ignores the other's option.
const BUFFER_REPLIES = { returnBuffers: true, typeMapping: { 36: Buffer } }

const settled = (results: PromiseSettledResult<unknown>[]): unknown[] =>
  results.map((result) => (result.status === 'fulfilled' ? result.value : result.reason))

/** In place of each command a client held back until after the store's deadline: nothing was sent. */
const notSent = () => new Error('not sent: the store had given up on this call')

/** Every command's reply in place, when the exchange as a whole failed. */
const failedAll =
  (commands: readonly Command[]) =>
  (error: unknown): unknown[] =>
    commands.map(() => error)

/** Several commands issued in one tick: node-redis writes them to the socket together. */
const all = (sends: Promise<unknown>[]): Promise<unknown[]> => Promise.allSettled(sends).then(settled)

/**
 * A command as node-redis takes it. Text and byte arguments mix in one command (both v4 and v5 encode
 * each by its type), so text is not copied into a Buffer first; a copy of the array, because the
 * runner may send the same command again (after "Function not found").
 */
function nodeRedisArgs(command: Command): (string | Buffer)[] {
  return command.slice()
}

/** Commands sent as one ioredis pipeline; each reply, or its error, in order. */
async function pipelined(client: IORedisClient, commands: readonly Command[]): Promise<unknown[]> {
  const pipeline = client.pipeline()
  for (const [name = '', ...args] of commands) pipeline.callBuffer(String(name), args)
  const replies = (await pipeline.exec()) ?? []
  return commands.map((_, index) => {
    const [error, reply] = replies[index] ?? [new Error('Redis sent no reply')]
    return error ?? reply
  })
}

function ioredis(client: IORedisClient): Send {
  return async (_key, commands) => {
    const [first] = commands
    if (commands.length === 1 && first !== undefined) {
      const [name = '', ...args] = first
      return all([client.callBuffer(String(name), args)])
    }
    // A pipeline, not separate calls: a Cluster routes it as a whole by its keys, so a keyless
    // WAIT goes to the node that ran the script.
    return pipelined(client, commands)
  }
}

/**
 * An ioredis client made with `enableAutoPipelining: true`. Its own auto-pipelining loses the command
 * name of every `callBuffer` (ioredis 5.x re-inserts it for `call` only), so the store never calls
 * `callBuffer` on it; it keeps the promise the option makes instead. On a standalone or Sentinel
 * client, everything the store sends in one event-loop turn, for any number of requests, goes out as
 * one explicit pipeline (one write, one read for Redis) on the next turn, as ioredis itself batches.
 * A Cluster pipeline must stay on one node, so there each exchange is its own pipeline.
 */
function ioredisAutoPipelined(client: IORedisClient): Send {
  if (client.isCluster) return (_key, commands) => pipelined(client, commands)
  let batch: { commands: readonly Command[]; resolve: (replies: unknown[]) => void }[] | undefined
  const flush = () => {
    const sending = batch ?? []
    batch = undefined
    const commands = sending.flatMap((entry) => entry.commands)
    pipelined(client, commands)
      .catch(failedAll(commands))
      .then((replies) => {
        let next = 0
        for (const entry of sending) {
          entry.resolve(replies.slice(next, next + entry.commands.length))
          next += entry.commands.length
        }
      })
  }
  return (_key, commands) =>
    new Promise((resolve) => {
      if (batch === undefined) {
        batch = []
        setImmediate(flush)
      }
      batch.push({ commands, resolve })
    })
}

/**
 * node-redis' Sentinel client runs the function it is given again when that function throws while
 * its connection is down, or with `READONLY`. A command that ran but whose reply was lost with the
 * connection would then run twice (an increment counted twice), and a retry after the store's
 * timeout would land a write the store had already reported failed, over a newer one. So every
 * exchange goes through `_execute` and its function never throws: replies and errors come back as
 * values. After a failover node-redis moves to the new primary on Sentinel's `+switch-master`, as
 * it does for its own pipelines.
 */
function sentinel(client: NodeRedisSentinel): Send {
  const leased = (lease: NodeRedisSentinelLease, commands: readonly Command[], expired: (() => boolean) | undefined) =>
    expired?.() === true
      ? Promise.resolve(commands.map(notSent))
      : all(commands.map((command) => lease.sendCommand(false, nodeRedisArgs(command), BUFFER_REPLIES)))
  // Several commands share one master connection, as node-redis's own pipelines do: WAIT counts the
  // replicas that acknowledged this connection's writes. `use()` guarantees the same but builds a
  // client object per call, which cost 100+ ms per write with 16 requests in flight; it is only the
  // fallback for a version without `_execute` (and there node-redis may send a command again).
  // node-redis runs the function only once it has a ready connection: after a reconnect, or once
  // it has moved to a new primary, possibly after the store's deadline.
  const exchange =
    (commands: readonly Command[], expired: (() => boolean) | undefined) =>
    async (connection: NodeRedisSentinelConnection) =>
      expired?.() === true
        ? commands.map(notSent)
        : all(commands.map((command) => connection.sendCommand(nodeRedisArgs(command), BUFFER_REPLIES)))
  return (_key, commands, expired) =>
    (
      client._execute?.(false, exchange(commands, expired)) ?? client.use((lease) => leased(lease, commands, expired))
    ).catch(failedAll(commands))
}

/**
 * Adapt a user's client to {@link Send}.
 *
 * @param client - an ioredis or node-redis client, cluster or Sentinel client
 * @returns the connection
 * @throws TypeError when `client` is none of them
 */
export function connectionOf(client: RedisClient): Connection {
  if ('callBuffer' in client && typeof client.callBuffer === 'function') {
    const send = client.options?.enableAutoPipelining === true ? ioredisAutoPipelined(client) : ioredis(client)
    if (client.isCluster !== true) return { cluster: false, send }
    const everyMaster = (commands: readonly Command[]) =>
      Promise.all((client.nodes?.('master') ?? []).map((node) => pipelined(node, commands).catch(failedAll(commands))))
    return { cluster: true, send, nodeOf: nodeLookup((slot) => client.slots?.[slot]?.[0]), everyMaster }
  }
  if ('getMasterNode' in client) {
    return { cluster: false, send: sentinel(client) }
  }
  if ('masters' in client) {
    const send: Send = (key, commands) =>
      all(commands.map((command) => client.sendCommand(key, false, nodeRedisArgs(command), BUFFER_REPLIES)))
    const everyMaster = (commands: readonly Command[]) => {
      const masters: readonly unknown[] = Array.isArray(client.masters) ? client.masters : []
      const toMaster = async (master: unknown) => {
        const node = await client.nodeClient?.(master)
        if (node === undefined) throw new Error('no client for a master')
        return all(commands.map((command) => node.sendCommand(nodeRedisArgs(command), BUFFER_REPLIES)))
      }
      return Promise.all(masters.map((master) => toMaster(master).catch(failedAll(commands))))
    }
    return { cluster: true, send, nodeOf: nodeLookup((slot) => client.getSlotMaster?.(slot)?.address), everyMaster }
  }
  if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    const send: Send = (_key, commands) =>
      all(commands.map((command) => client.sendCommand(nodeRedisArgs(command), BUFFER_REPLIES)))
    return { cluster: false, send }
  }
  throw new TypeError('RedisStore needs an ioredis or node-redis client')
}
