import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6'
import { createClient, createCluster } from 'redis'
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4'
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6'
import { afterAll, describe, inject } from 'vitest'
import { type RedisClient, RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js'

export { bytes, sleep, text } from '../../src/testing/values.js'

/** The Redis servers of this run, or why the Redis tests are skipped. */
export const redis = inject('redis')

/** Stated skip reason for `describe.skipIf`. */
export const skipReason = redis.available ? undefined : `Redis tests skipped: ${redis.reason}`

/** `describe`, or a skipped `describe` whose name states why Redis tests cannot run here. */
export const describeRedis = (name: string, body: () => void): void => {
  if (skipReason === undefined) describe(name, body)
  else describe.skip(`${name} (skipped: ${skipReason})`, body)
}

/** A connected client of one library and topology, and how to close it. */
export interface ConnectedClient {
  client: RedisClient
  /** Send one raw command for a test's own inspection (routed by `key` on a Cluster). */
  raw(key: string, ...args: string[]): Promise<unknown>
  close(): Promise<void>
}

/** A standalone server address. */
export interface Address {
  host: string
  port: number
}

/** One way of reaching Redis: library × topology. */
export interface ClientKind {
  name: string
  cluster: boolean
  /** Connect to the run's shared server or cluster, or to `address` (standalone kinds only). */
  connect(address?: Address): Promise<ConnectedClient>
}

function standalone(address?: Address): Address {
  if (address !== undefined) return address
  if (!redis.available) throw new Error(redis.reason)
  return redis.standalone
}

function clusterNodes(): { host: string; port: number }[] {
  if (!redis.available) throw new Error(redis.reason)
  return redis.cluster
}

/**
 * Every supported client library and topology. The newest majors (ioredis v6, node-redis v6) run
 * the store conformance suite and the round-trip checks ({@link allClientKinds}); the longer suites
 * run on the others, to keep `npm test` within its few minutes.
 */
export const allClientKinds: ClientKind[] = [
  ioredisKind('ioredis standalone', (at) => new Redis({ ...at(), lazyConnect: true, maxRetriesPerRequest: 1 })),
  nodeRedisKind('node-redis standalone', (at) => createClient({ socket: at() })),
  nodeRedisKind('node-redis v4 standalone', (at) => createClient4({ socket: at() })),
  ioredisKind('ioredis v6 standalone', (at) => new Redis6({ ...at(), lazyConnect: true, maxRetriesPerRequest: 1 })),
  nodeRedisKind('node-redis v6 standalone', (at) => createClient6({ socket: at() })),
  ioredisKind('ioredis Cluster', () => new Cluster(clusterNodes(), { lazyConnect: true })),
  nodeRedisKind('node-redis Cluster', () => createCluster({ rootNodes: rootNodes() })),
  ioredisKind('ioredis v6 Cluster', () => new Cluster6(clusterNodes(), { lazyConnect: true })),
  nodeRedisKind('node-redis v6 Cluster', () => createCluster6({ rootNodes: rootNodes() })),
  nodeRedisKind('node-redis v4 Cluster', () => createCluster4({ rootNodes: rootNodes() })),
]

/** An ioredis client or Cluster as the tests use it. */
interface IORedisLike {
  connect(): Promise<void>
  call(command: string, ...args: string[]): Promise<unknown>
  disconnect(): void
}

/** A node-redis client (v4: `disconnect`; v5 and v6: `destroy`) or Cluster as the tests use it. */
interface NodeRedisLike {
  connect(): Promise<unknown>
  sendCommand(...args: never[]): Promise<unknown>
  disconnect?(): Promise<void>
  destroy?(): void
}

/**
 * A kind of one library; a name ending in "Cluster" is a Cluster client (`make` builds it from the
 * run's cluster), any other a standalone one (`make` asks for the server's address).
 */
function ioredisKind(name: string, make: (address: () => Address) => IORedisLike & RedisClient): ClientKind {
  const cluster = name.endsWith('Cluster')
  return {
    name,
    cluster,
    async connect(address) {
      const client = make(() => standalone(address))
      await client.connect()
      return {
        client,
        raw: (_, ...args) => client.call(...(args as [string])),
        close: async () => void client.disconnect(),
      }
    },
  }
}

function nodeRedisKind(name: string, make: (address: () => Address) => NodeRedisLike & RedisClient): ClientKind {
  const cluster = name.endsWith('Cluster')
  return {
    name,
    cluster,
    async connect(address) {
      const client = make(() => standalone(address))
      await client.connect()
      // A Cluster routes a raw command by the key given with it; a single client takes the command.
      const send = client.sendCommand.bind(client) as (...args: unknown[]) => Promise<unknown>
      return {
        client,
        raw: (key, ...args) => (cluster ? send(key, false, args) : send(args)),
        close: async () => {
          if (client.destroy !== undefined) client.destroy()
          else await client.disconnect?.()
        },
      }
    },
  }
}

function rootNodes(): { socket: Address }[] {
  return clusterNodes().map(({ host, port }) => ({ socket: { host, port } }))
}

/** The client kinds of the longer suites: every library and topology but the v6 majors. */
export const clientKinds: ClientKind[] = allClientKinds.filter((kind) => !/ v6 /.test(kind.name))

/**
 * Connect clients inside a describe block and close every one after it.
 *
 * @returns `connect(kind)`, which also registers the client for closing
 */
export function connections(): (kind: ClientKind) => Promise<ConnectedClient> {
  const open: ConnectedClient[] = []
  afterAll(() => Promise.all(open.map((each) => each.close())))
  return async (kind) => {
    const connected = await kind.connect()
    open.push(connected)
    return connected
  }
}

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

/** The Redis key of a store key under `prefix` (the store's documented layout). */
export function redisKey(prefix: string, key: string): string {
  return `${prefix}{${key}}`
}
