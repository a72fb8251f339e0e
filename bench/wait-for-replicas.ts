// What `waitForReplicas` costs per write: a private primary + one replica on loopback, ioredis,
// sequential writes (latency) and 20 concurrent writers (throughput), with and without
// `WAIT 1 <timeout>` pipelined after each script. Run: `npx tsx bench/wait-for-replicas.ts`.
// Loopback replication is nearly free, so this measures the protocol's own cost (the replica's
// ack round); across hosts add one network round trip between primary and replica per write.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from '../src/stores/redis/index.js'
import { cli, startRedis, stopAll } from '../test/redis/server.js'

const WRITES = 3_000
const primary = await startRedis()
const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
while (!(await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up')) {
  await new Promise((resolve) => setTimeout(resolve, 100))
}
const client = new Redis({ port: primary.port, host: '127.0.0.1' })
const value = new TextEncoder().encode('x'.repeat(100))
const options = { mode: 'update', session: 'create', fieldTtl: 600, sessionTtl: 600 } as const

async function measure(label: string, extra: Partial<RedisStoreOptions>): Promise<void> {
  const store = new RedisStore({ client, prefix: `bench:${randomBytes(4).toString('hex')}:`, ...extra })
  const latencies: number[] = []
  for (let i = 0; i < WRITES; i++) {
    const start = process.hrtime.bigint()
    await store.write(randomBytes(32).toString('base64url'), 'v', value, options)
    latencies.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  latencies.sort((a, b) => a - b)
  const at = (q: number) => (latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(0)
  const started = Date.now()
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let i = 0; i < WRITES / 20; i++)
        await store.write(randomBytes(32).toString('base64url'), 'v', value, options)
    }),
  )
  const perSecond = Math.round(WRITES / ((Date.now() - started) / 1000))
  console.log(`| ${label} | ${at(0.5)} | ${at(0.99)} | ${perSecond} |`)
}

console.log('| write | p50 µs | p99 µs | writes/s (20 concurrent) |\n|---|---|---|---|')
for (let round = 0; round < 2; round++) {
  await measure('no wait', {})
  await measure('waitForReplicas 1', { waitForReplicas: { replicas: 1, timeout: 500 } })
}
client.disconnect()
await stopAll([primary, replica])
