import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, inject } from 'vitest'
import { RedisStore } from '../../src/stores/redis/index.js'
import { describeAdapterBehaviour, type StartServer } from '../../src/testing/adapter-suite.js'
import { fastifyHarness } from '../helpers/fastify-harness.js'
import { honoHarness, webHarness } from '../helpers/hono-harness.js'
import { koaHarness } from '../helpers/koa-harness.js'

// The adapter behaviour suite once through each of Fastify, Hono, Koa and Web with a RedisStore
// (ioredis, standalone) underneath; test/redis/ runs Express on every client kind and topology.
// test/setup/redis.ts fails the run on CI when redis-server is missing, so a skip only happens locally.
const redis = inject('redis')
const skip = redis.available ? undefined : `Redis unavailable: ${redis.reason}`
const clients: Redis[] = []
afterAll(() => {
  for (const client of clients) client.disconnect()
})

async function redisStore(): Promise<RedisStore> {
  if (!redis.available) throw new Error(redis.reason)
  const client = new Redis({ ...redis.standalone, lazyConnect: true, maxRetriesPerRequest: 1 })
  clients.push(client)
  await client.connect()
  // A private prefix per suite: files sharing the server never see each other's sessions.
  return new RedisStore({ client, prefix: `adapters:${randomBytes(6).toString('hex')}:` })
}

const adapters: [string, StartServer][] = [
  ['Fastify 5', fastifyHarness],
  ['Hono 4 (@hono/node-server)', honoHarness],
  ['Koa 3', koaHarness(3)],
  ['Web (node:http via @hono/node-server)', webHarness],
]
for (const [name, start] of adapters) {
  describeAdapterBehaviour({ name: `${name} on RedisStore (ioredis)`, start, store: redisStore, skip })
}
