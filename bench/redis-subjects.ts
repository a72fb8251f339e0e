// Subjects on RedisStore (SPEC §13): how long listing and revoking 1,000 sessions of one subject take,
// on a private standalone server and a private 3-master Cluster, through ioredis and node-redis.
// Also a login (bind of an anonymous session) and a list of 10. Run: `npx tsx bench/redis-subjects.ts`.
// Loopback; on a loaded machine the figures are upper bounds.
import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import type { BindOptions } from '../src/core/store.js'
import { type RedisClient, RedisStore } from '../src/stores/redis/index.js'
import { startCluster, startRedis, stopAll } from '../test/redis/server.js'

const SESSIONS = 1_000
const ROUNDS = 3
const standalone = await startRedis()
const cluster = await startCluster()
const nodes = cluster.map((node) => ({ host: '127.0.0.1', port: node.port }))
const key = () => randomBytes(32).toString('base64url')
const login = (subject: string): BindOptions => ({
  session: 'create',
  subject,
  meta: '{"device":"bench"}',
  sessionTtl: 3600,
})

async function clients(): Promise<{ name: string; client: RedisClient; close: () => Promise<unknown> }[]> {
  const ioredis = new Redis({ port: standalone.port, host: '127.0.0.1' })
  const ioCluster = new Cluster(nodes)
  const nodeRedis = createClient({ socket: { port: standalone.port, host: '127.0.0.1' } })
  await nodeRedis.connect()
  const nodeCluster = createCluster({ rootNodes: nodes.map((socket) => ({ socket })) })
  await nodeCluster.connect()
  return [
    { name: 'ioredis standalone', client: ioredis, close: async () => ioredis.disconnect() },
    { name: 'node-redis standalone', client: nodeRedis, close: () => nodeRedis.quit() },
    { name: 'ioredis Cluster', client: ioCluster, close: async () => ioCluster.disconnect() },
    { name: 'node-redis Cluster', client: nodeCluster, close: () => nodeCluster.quit() },
  ]
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6

console.log(`| client | bind (login) ms | list of 10 ms | list of ${SESSIONS} ms | revoke ${SESSIONS} ms |`)
console.log('|---|---|---|---|---|')
for (const { name, client, close } of await clients()) {
  const store = new RedisStore({ client, prefix: `bench:${randomBytes(4).toString('hex')}:`, timeout: 30_000 })
  const figures: number[][] = [[], [], [], []]
  for (let round = 0; round < ROUNDS; round++) {
    const subject = `user:${key()}`
    const few = `user:${key()}`
    for (let i = 0; i < 10; i++) await store.bind(key(), login(few))
    const anonymous = key()
    await store.write(anonymous, 'cart', new Uint8Array([1]), {
      mode: 'update',
      session: 'create',
      fieldTtl: 3600,
      sessionTtl: 3600,
    })
    let start = process.hrtime.bigint()
    await store.bind(key(), { ...login(few), session: 'existing', renameFrom: anonymous })
    figures[0]?.push(ms(start))
    start = process.hrtime.bigint()
    await store.listSubject(few)
    figures[1]?.push(ms(start))
    for (let i = 0; i < SESSIONS; i += 50)
      await Promise.all(Array.from({ length: 50 }, () => store.bind(key(), login(subject))))
    start = process.hrtime.bigint()
    const listed = await store.listSubject(subject)
    figures[2]?.push(ms(start))
    start = process.hrtime.bigint()
    const ended = await store.revokeSubject(subject, {})
    figures[3]?.push(ms(start))
    if (listed.length !== SESSIONS || ended.length !== SESSIONS)
      throw new Error(`${name}: ${listed.length} listed, ${ended.length} ended`)
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]?.toFixed(1)
  console.log(`| ${name} | ${figures.map(median).join(' | ')} |`)
  await close()
}
await stopAll([standalone, ...cluster])
