// What each part of a RedisStore operation costs Redis: a private redis-server, one ioredis
// connection, 16 operations in flight (as a benchmark server keeps them), rounds interleaved.
// Per variant: Redis CPU µs per operation (INFO cpu) and the commands it ran (INFO commandstats,
// inner commands included) with their own µs. Run: npm run build && npx tsx bench/redis-parts.ts
// (PARTS_ONLY=<regular expression> runs only the variants whose name matches it).
import { Redis } from 'ioredis'
import { RedisStore } from 'ruts/redis'
import { startRedis } from './redis.js'

const OPERATIONS = Number(process.env.PARTS_N ?? 20_000)
const ROUNDS = Number(process.env.PARTS_ROUNDS ?? 3)
const IN_FLIGHT = Number(process.env.PARTS_IN_FLIGHT ?? 16)
const ONLY = new RegExp(process.env.PARTS_ONLY ?? '')

const redis = await startRedis()
const client = new Redis({ port: redis.port, host: '127.0.0.1' })
const store = new RedisStore({ client })
// The same store on a user that may not use FUNCTION/FCALL: the EVALSHA path with staged values.
await client.call('ACL', 'SETUSER', 'scripts', 'on', '>scripts', '~*', '+@all', '-fcall', '-fcall_ro', '-function')
const scriptsClient = new Redis({ port: redis.port, host: '127.0.0.1', username: 'scripts', password: 'scripts' })
const scriptsStore = new RedisStore({ client: scriptsClient })
const key = 'k'.repeat(43)
const hashKey = `ruts:{${key}}`
const profile = Buffer.alloc(1024, 120)
// A touch that never fires (threshold = ttl - 1 s): the touching script runs, nothing moves.
const touch = { touch: { ttl: 3600, threshold: 3599 } }
const hour = { mode: 'update', session: 'existing', fieldTtl: 3600, sessionTtl: 3600 } as const
// Options are built once: spreading them per call slows the client enough that fewer calls reach
// Redis per socket read, which alone moved Redis' CPU per call by ~2.5 µs (measured).
const limited = { ...hour, maxFields: 1000 }
await store.write(key, 'count', Buffer.from('1'), { ...hour, session: 'create' })
await store.write(key, 'profile', profile, hour)

const rawScript = async (source: string) => String(await client.call('SCRIPT', 'LOAD', source))
const TRIVIAL = await rawScript('return 1')
const MINIMAL = await rawScript(`
local t = redis.call('TIME')
local m = redis.call('HMGET', KEYS[1], 'm:expires', 'm:deadline', ARGV[1])
redis.call('HSET', KEYS[1], 'm:active', t[1], ARGV[1], ARGV[2])
return {1, 3600000, 0}`)
const MINIMAL_READ = await rawScript(`
local t = redis.call('TIME')
local m = redis.call('HMGET', KEYS[1], 'm:expires', 'm:deadline', ARGV[1])
return {1, 3600000, 0, m[3]}`)
let functions = false
try {
  await client.call(
    'FUNCTION',
    'LOAD',
    'REPLACE',
    `#!lua name=parts
redis.register_function('parts_trivial', function(keys, args) return 1 end)
redis.register_function('parts_minimal', function(keys, args)
local t = redis.call('TIME')
local m = redis.call('HMGET', keys[1], 'm:expires', 'm:deadline', args[1])
redis.call('HSET', keys[1], 'm:active', t[1], args[1], args[2])
return {1, 3600000, 0} end)
redis.register_function{function_name = 'parts_minimal_ro', flags = {'no-writes'}, callback = function(keys, args)
local t = redis.call('TIME')
local m = redis.call('HMGET', keys[1], 'm:expires', 'm:deadline', args[1])
return {1, 3600000, 0, m[3]} end}`,
  )
  functions = true
} catch {
  console.log('no FUNCTION support: function variants skipped')
}

let created = 0
let extended = 0
const fresh = () => `${(created++).toString(36)}${'n'.repeat(36)}`
const field = (value: string) => `${Date.now() + 3_600_000}:${value}`
const variants: Record<string, () => Promise<unknown>> = {
  'peer GET (connect-redis read)': () => client.getBuffer('peer:sess'),
  'peer SET EX (connect-redis write)': () => client.set('peer:sess', '{"cookie":{},"count":1}', 'EX', 3600),
  'store.get (HMGET + TIME), scripts user': () => scriptsStore.get(key, 'profile'),
  'store.write update, scripts (RPUSH+PEXPIRE+EVALSHA SET_FIELD)': () =>
    scriptsStore.write(key, 'count', Buffer.from('2'), hour),
  'store.write create, scripts': () =>
    scriptsStore.write(fresh(), 'n', Buffer.from('1'), { ...hour, session: 'create' }),
  'store.get (HMGET + TIME)': () => store.get(key, 'profile'),
  'store.get with touch, functions (FCALL)': () => store.get(key, 'profile', touch),
  'store.get with touch, scripts (EVALSHA)': () => scriptsStore.get(key, 'profile', touch),
  'store.write update, functions (FCALL SET_FIELD)': () => store.write(key, 'count', Buffer.from('2'), hour),
  // What the layer sends by default (maxFields 1000): the same update plus the limit's HLEN.
  'store.write update with maxFields (SET_FIELD + HLEN)': () => store.write(key, 'count', Buffer.from('2'), limited),
  // Each call asks for a lifetime 1 s longer than the last, so every one moves the session's expiry,
  // as the HTTP bench's counter does (there each session is written every few ms).
  'store.write update moving the expiry, functions (FCALL SET_FIELD)': () =>
    store.write(key, 'count', Buffer.from('2'), { ...hour, sessionTtl: 3600 + ++extended }),
  'store.write create, functions (FCALL SET_FIELD)': () =>
    store.write(fresh(), 'n', Buffer.from('1'), { ...hour, session: 'create' }),
  'EVALSHA return 1': () => client.evalsha(TRIVIAL, 0),
  'EVALSHA TIME+HMGET+HSET': () => client.evalsha(MINIMAL, 1, hashKey, 'f:count', field('2')),
  'EVALSHA TIME+HMGET': () => client.evalsha(MINIMAL_READ, 1, hashKey, 'f:profile'),
  TIME: () => client.time(),
  'HMGET 3 fields': () => client.hmgetBuffer(hashKey, 'm:expires', 'm:deadline', 'f:profile'),
  'pipeline HMGET+TIME': () =>
    client.pipeline().hmgetBuffer(hashKey, 'm:expires', 'm:deadline', 'f:profile').time().exec(),
  'HSET 2 pairs': () => client.hset(hashKey, 'm:active', '1', 'f:count', field('2')),
  'MULTI HSET PEXPIRE GT EXEC': () =>
    client
      .multi()
      .hset(hashKey, 'm:active', '1', 'f:count', field('2'))
      .call('PEXPIRE', hashKey, '3600000', 'GT')
      .exec(),
}
if (functions) {
  variants['FCALL return 1'] = () => client.call('FCALL', 'parts_trivial', '0')
  variants['FCALL TIME+HMGET+HSET'] = () => client.call('FCALL', 'parts_minimal', '1', hashKey, 'f:count', field('2'))
  variants['FCALL_RO TIME+HMGET'] = () => client.callBuffer('FCALL_RO', ['parts_minimal_ro', '1', hashKey, 'f:profile'])
}
await client.set('peer:sess', '{"cookie":{},"count":1}', 'EX', 3600)

function commandstats(text: string): Map<string, { calls: number; usec: number }> {
  const stats = new Map<string, { calls: number; usec: number }>()
  for (const line of text.split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (match) stats.set(match[1] ?? '', { calls: Number(match[2]), usec: Number(match[3]) })
  }
  return stats
}

async function measure(run: () => Promise<unknown>) {
  for (let i = 0; i < 500; i++) await run()
  await client.call('CONFIG', 'RESETSTAT')
  const before = await redis.snapshot()
  let next = 0
  const worker = async () => {
    while (next++ < OPERATIONS) await run()
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  const after = await redis.snapshot()
  const stats = commandstats(String(await client.call('INFO', 'commandstats')))
  const parts = [...stats]
    .filter(([name]) => name !== 'info' && name !== 'config')
    .map(([name, { calls, usec }]) => `${name} ${(calls / OPERATIONS).toFixed(1)}×${(usec / calls).toFixed(2)}`)
  return { cpu: (after.cpuMicros - before.cpuMicros) / OPERATIONS, parts: parts.join(', ') }
}

const results = new Map<string, { cpu: number[]; parts: string }>()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) {
    if (!ONLY.test(name)) continue
    const { cpu, parts } = await measure(run)
    const entry = results.get(name) ?? { cpu: [], parts }
    entry.cpu.push(cpu)
    entry.parts = parts
    results.set(name, entry)
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
console.log(`redis ${redis.version}, ${OPERATIONS} operations × ${ROUNDS} rounds, ${IN_FLIGHT} in flight`)
console.log('| variant | Redis CPU µs/op (median; rounds) | commands per op × µs each (commandstats) |')
console.log('|---|---|---|')
for (const [name, { cpu, parts }] of results) {
  console.log(`| ${name} | ${median(cpu).toFixed(1)} (${cpu.map((c) => c.toFixed(1)).join(' · ')}) | ${parts} |`)
}
client.disconnect()
scriptsClient.disconnect()
await redis.stop()
