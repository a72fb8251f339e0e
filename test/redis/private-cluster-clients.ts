import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import type { RedisClient } from '../../src/stores/redis/index.js'
import { type RedisProcess, startCluster, stopAll } from './server.js'

/** A Cluster client of one library for a private cluster the test started, and how to close it. */
export interface PrivateClusterKind {
  name: string
  connect(ports: readonly number[]): Promise<{ client: RedisClient; close(): Promise<void> }>
}

/** ioredis `Cluster` and node-redis `createCluster`, with their default settings. */
export const privateClusterKinds: readonly PrivateClusterKind[] = [
  {
    name: 'ioredis Cluster',
    async connect(ports) {
      const client = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { lazyConnect: true },
      )
      await client.connect()
      return { client, close: async () => void client.disconnect() }
    },
  },
  {
    name: 'node-redis createCluster',
    async connect(ports) {
      const client = createCluster({ rootNodes: ports.map((port) => ({ socket: { host: '127.0.0.1', port } })) })
      await client.connect()
      return { client, close: async () => void client.destroy() }
    },
  },
]

/** A private cluster of one describe block: its ports, and clients it closes at the end. */
export interface PrivateCluster {
  /** The masters' ports (once the block's `beforeAll` has run). */
  ports(): number[]
  /** Connect a client of `kind`, closed with the cluster. */
  connect(kind: PrivateClusterKind): Promise<{ client: RedisClient; close(): Promise<void> }>
}

/**
 * Start a private 3-master cluster before the tests of the calling describe block and stop it after
 * them, with every client opened through it: for tests that pause, reconfigure or migrate nodes,
 * which would disturb other files on the run's shared cluster.
 *
 * @returns the cluster's ports and a `connect` that registers clients for closing
 */
export function usePrivateCluster(): PrivateCluster {
  let nodes: RedisProcess[] = []
  const open: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    nodes = await startCluster()
  }, 60_000)
  afterAll(async () => {
    await Promise.all(open.map((each) => each.close()))
    await stopAll(nodes)
  })
  const ports = () => nodes.map((node) => node.port)
  return {
    ports,
    async connect(kind) {
      const connected = await kind.connect(ports())
      open.push(connected)
      return connected
    },
  }
}
