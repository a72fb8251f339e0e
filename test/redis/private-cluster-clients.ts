import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import type { RedisClient } from '../../src/stores/redis/index.js'

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
