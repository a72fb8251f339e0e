import type {
  IORedisClient,
  IORedisPipeline,
  NodeRedisClient,
  NodeRedisCluster,
  RedisClient,
} from '../../src/stores/redis/index.js'

// Fault injection for race tests: a user's real client, wrapped so that the first call of one
// script (`EVALSHA` by its SHA, or `FCALL` by its function's name) waits at the gate until the test opens it. Everything else goes straight
// through to the real servers; the store cannot tell the difference. This is how a test puts a
// concurrent operation exactly between two steps of a Cluster operation.

/** A client whose first call of one script is held. */
export interface Gate {
  readonly client: RedisClient
  /** Resolves once the held call has reached the gate (every step before it has completed). */
  readonly reached: Promise<void>
  /** Let the held call through. */
  open(): void
}

type Sent = readonly (string | Buffer | number)[]

/**
 * @param client - a connected ioredis or node-redis client (standalone or Cluster)
 * @param script - the script whose first call is held
 * @returns the gated client
 */
export function gate(client: RedisClient, script: { readonly sha: string; readonly function: string }): Gate {
  let reach = () => {}
  const reached = new Promise<void>((resolve) => {
    reach = resolve
  })
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  let held = false
  const wait = async (command: unknown, args: Sent) => {
    const name = String(command).toUpperCase()
    const called = String(args[0])
    const isIt = (name === 'EVALSHA' && called === script.sha) || (name === 'FCALL' && called === script.function)
    if (held || !isIt) return
    held = true
    reach()
    await opened
  }
  return { client: wrap(client, wait), reached, open }
}

function wrap(client: RedisClient, wait: (command: unknown, args: Sent) => Promise<void>): RedisClient {
  if ('callBuffer' in client) {
    const ioredis = client as IORedisClient
    return {
      isCluster: ioredis.isCluster,
      async callBuffer(command, args) {
        await wait(command, args)
        return ioredis.callBuffer(command, args)
      },
      pipeline(): IORedisPipeline {
        const queued: [string, (string | Buffer | number)[]][] = []
        return {
          callBuffer(command, args) {
            queued.push([command, args])
          },
          async exec() {
            for (const [command, args] of queued) await wait(command, args)
            const pipeline = ioredis.pipeline()
            for (const [command, args] of queued) pipeline.callBuffer(command, args)
            return pipeline.exec()
          },
        }
      },
    } satisfies IORedisClient
  }
  if ('masters' in client) {
    const cluster = client as NodeRedisCluster
    return {
      masters: cluster.masters,
      async sendCommand(key, readonly, args, options) {
        const [command, ...rest] = args
        await wait(command, rest)
        return cluster.sendCommand(key, readonly, args, options)
      },
    } satisfies NodeRedisCluster
  }
  const standalone = client as NodeRedisClient
  return {
    async sendCommand(args, options) {
      const [command, ...rest] = args
      await wait(command, rest)
      return standalone.sendCommand(args, options)
    },
  } satisfies NodeRedisClient
}
