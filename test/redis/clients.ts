import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4'
import { inject } from 'vitest'
import { type RedisClient, RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js'

/** The Redis servers of this run, or why the Redis tests are skipped. */
export const redis = inject('redis')

/** Stated skip reason for `describe.skipIf`. */
export const skipReason = redis.available ? undefined : `Redis tests skipped: ${redis.reason}`

/** A connected client of one library and topology, and how to close it. */
export interface ConnectedClient {
  client: RedisClient
  close(): Promise<void>
}

/** One way of reaching Redis: library × topology. */
export interface ClientKind {
  name: string
  cluster: boolean
  connect(): Promise<ConnectedClient>
}

function standalone(): { host: string; port: number } {
  if (!redis.available) throw new Error(redis.reason)
  return redis.standalone
}

function clusterNodes(): { host: string; port: number }[] {
  if (!redis.available) throw new Error(redis.reason)
  return redis.cluster
}

/** Every supported client library and topology. */
export const clientKinds: ClientKind[] = [
  {
    name: 'ioredis standalone',
    cluster: false,
    async connect() {
      const client = new Redis({ ...standalone(), lazyConnect: true, maxRetriesPerRequest: 1 })
      await client.connect()
      return { client, close: async () => void client.disconnect() }
    },
  },
  {
    name: 'node-redis standalone',
    cluster: false,
    async connect() {
      const { host, port } = standalone()
      const client = createClient({ socket: { host, port } })
      await client.connect()
      return { client, close: async () => void client.destroy() }
    },
  },
  {
    name: 'node-redis v4 standalone',
    cluster: false,
    async connect() {
      const { host, port } = standalone()
      const client = createClient4({ socket: { host, port } })
      await client.connect()
      return { client, close: () => client.disconnect() }
    },
  },
  {
    name: 'ioredis Cluster',
    cluster: true,
    async connect() {
      const client = new Cluster(clusterNodes(), { lazyConnect: true })
      await client.connect()
      return { client, close: async () => void client.disconnect() }
    },
  },
  {
    name: 'node-redis Cluster',
    cluster: true,
    async connect() {
      const client = createCluster({ rootNodes: clusterNodes().map(({ host, port }) => ({ socket: { host, port } })) })
      await client.connect()
      return { client, close: async () => void client.destroy() }
    },
  },
  {
    name: 'node-redis v4 Cluster',
    cluster: true,
    async connect() {
      const client = createCluster4({ rootNodes: clusterNodes().map(({ host, port }) => ({ socket: { host, port } })) })
      await client.connect()
      return { client, close: () => client.disconnect() }
    },
  },
]

/** A unique key prefix, so test files sharing a server never see each other's sessions. */
export function uniquePrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`
}

/** A store key shaped like the layer's (43 base64url chars). */
export function randomKey(): string {
  return randomBytes(32).toString('base64url')
}

/** A store over `client` with a fresh prefix. */
export function storeFor(client: RedisClient, options: Omit<RedisStoreOptions, 'client'> = {}): RedisStore {
  return new RedisStore({ prefix: uniquePrefix(), ...options, client })
}
