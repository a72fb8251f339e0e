// The bench's own redis-server (never the shared one on 6379) and the counters read from it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** Counters of one moment; differences of two snapshots give a window's cost. */
export interface RedisSnapshot {
  /** used_cpu_sys + used_cpu_user, in µs. */
  cpuMicros: number
  /** total_net_input_bytes: everything clients sent. */
  inputBytes: number
  /** Sum of commandstats calls. Includes commands run inside scripts, so not "round trips". */
  commands: number
  /**
   * total_reads_processed: socket reads that carried commands. Commands a client pipelines in one
   * write arrive in one read, so over sequential requests this counts round trips (exchanges),
   * where MONITOR counts every pipelined command. A value too big for one read (~16 KB) counts more.
   */
  reads: number
}

export interface BenchRedis {
  port: number
  /** The redis-server process (the runner pins it to a core). */
  pid: number
  version: string
  client: Redis
  snapshot(): Promise<RedisSnapshot>
  /** What taking one snapshot itself adds to a window (measured at startup, subtracted later). */
  overhead: RedisSnapshot
  /**
   * Count the top-level commands Redis receives while `work` runs. Uses MONITOR, which reports
   * commands run by a script with source `lua`: those are skipped, so a script counts once.
   * MONITOR is slow, so this runs only in the short, sequential round-trip probe, never during a
   * timed window.
   */
  countTopLevel(work: () => Promise<void>): Promise<number>
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function parseInfo(text: string): RedisSnapshot {
  const values = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) values.set(line.slice(0, colon), line.slice(colon + 1))
  }
  let commands = 0
  for (const [name, value] of values) {
    if (name.startsWith('cmdstat_')) commands += Number(/calls=(\d+)/.exec(value)?.[1] ?? 0)
  }
  const seconds = Number(values.get('used_cpu_sys') ?? 0) + Number(values.get('used_cpu_user') ?? 0)
  return {
    cpuMicros: seconds * 1e6,
    inputBytes: Number(values.get('total_net_input_bytes') ?? 0),
    commands,
    reads: Number(values.get('total_reads_processed') ?? 0),
  }
}

export function diffSnapshots(after: RedisSnapshot, before: RedisSnapshot, overhead?: RedisSnapshot): RedisSnapshot {
  return {
    cpuMicros: after.cpuMicros - before.cpuMicros - (overhead?.cpuMicros ?? 0),
    inputBytes: after.inputBytes - before.inputBytes - (overhead?.inputBytes ?? 0),
    commands: after.commands - before.commands - (overhead?.commands ?? 0),
    reads: after.reads - before.reads - (overhead?.reads ?? 0),
  }
}

/** Start redis-server on a free loopback port with persistence off, in a temporary directory. */
export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'ruts-bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child: ChildProcess = spawn('redis-server', [...args, '--loglevel', 'warning'], { stdio: 'ignore' })
  // Never leave the server running, even when the runner is interrupted.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null })
  // Connection refusals while redis-server boots are expected; the loop below retries.
  client.on('error', () => {})
  const until = Date.now() + 10_000
  for (;;) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch (error) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`redis-server did not start: ${error}`)
      client.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const connectedClients = async () =>
    Number(/connected_clients:(\d+)/.exec(String(await client.call('INFO', 'clients')))?.[1] ?? 0)
  const snapshot = async () => parseInfo(String(await client.call('INFO', 'cpu', 'stats', 'commandstats')))
  const first = await snapshot()
  const overhead = diffSnapshots(await snapshot(), first)
  overhead.cpuMicros = 0 // one INFO's CPU is below the counter's resolution; do not subtract noise
  const info = String(await client.call('INFO', 'server'))
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  return {
    port,
    pid: child.pid ?? 0,
    version,
    client,
    snapshot,
    overhead,
    async countTopLevel(work) {
      const clientsBefore = await connectedClients()
      const monitor = await client.monitor()
      const marker = `bench-marker-${Date.now()}`
      let count = 0
      let sawMarker: () => void = () => {}
      const done = new Promise<void>((resolve) => {
        sawMarker = resolve
      })
      monitor.on('monitor', (_time: string, commandArgs: string[], source: string) => {
        if (commandArgs[0]?.toLowerCase() === 'echo' && commandArgs[1] === marker) sawMarker()
        else if (source !== 'lua') count++
      })
      try {
        await work()
        // MONITOR output is asynchronous: the marker arriving means every earlier command has.
        await client.echo(marker)
        await done
        // Commands seen after the marker (the polling below) are not the work's.
        return count
      } finally {
        monitor.disconnect()
        // Wait until Redis has closed the monitor's connection: its closing read would otherwise
        // land in the next window or round-trip probe (total_reads_processed counts it).
        while ((await connectedClients()) > clientsBefore) await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    async stop() {
      client.disconnect()
      process.off('exit', killOnExit)
      child.kill('SIGTERM')
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
