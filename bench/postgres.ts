// The bench's own PostgreSQL (never the shared server on 5432): initdb into a temporary directory,
// a free loopback port, pg_stat_statements preloaded (which the shared server's configuration must
// not be changed for), and the counters read from it.
import { execFile } from 'node:child_process'
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from './redis.js'

const run = promisify(execFile)

/** Counters of one moment; differences of two snapshots give a window's cost. */
export interface PostgresSnapshot {
  /** CPU time of the server: every backend and background process, and the children that exited, µs. */
  cpuMicros: number
  /** Top-level statements executed (pg_stat_statements calls, transaction control included). */
  statements: number
}

export interface BenchPostgres {
  port: number
  version: string
  /** The postmaster's process id (the runner pins it and its children to a core). */
  pid: number
  snapshot(): Promise<PostgresSnapshot>
  /** What taking one snapshot itself adds to a window (its own statement), subtracted later. */
  overhead: PostgresSnapshot
  stop(): Promise<void>
}

async function binaries(): Promise<string> {
  const root = '/usr/lib/postgresql'
  const versions = (await readdir(root)).sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined) throw new Error('no PostgreSQL under /usr/lib/postgresql')
  return join(root, versions[0], 'bin')
}

// /proc's tick-based counters (only the exited children's) are in clock ticks: 100 per second on Linux.
const MICROS_PER_TICK = 10_000

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is field 3, the state. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  return text?.slice(text.lastIndexOf(')') + 2).split(' ')
}

/** Nanoseconds a process has run (schedstat: exact, unlike the tick counters). */
async function runtimeNanos(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/schedstat`, 'utf8').catch(() => '0')
  return Number(text.split(' ')[0] ?? 0)
}

/**
 * CPU of the whole server: the postmaster and every live child (backends, checkpointer, WAL
 * writer, autovacuum) from schedstat, plus the children that already exited, which the kernel
 * adds to the postmaster's cutime/cstime when it reaps them.
 */
export async function postgresCpuMicros(postmaster: number): Promise<number> {
  const children: number[] = []
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === postmaster) continue
    const fields = await statFields(pid)
    if (fields !== undefined && Number(fields[1]) === postmaster) children.push(pid)
  }
  const own = await statFields(postmaster)
  const reaped = (Number(own?.[13] ?? 0) + Number(own?.[14] ?? 0)) * MICROS_PER_TICK
  let nanos = await runtimeNanos(postmaster)
  for (const pid of children) nanos += await runtimeNanos(pid)
  return nanos / 1000 + reaped
}

/** Start a private cluster with pg_stat_statements; as root it belongs to the `postgres` user. */
export async function startPostgres(): Promise<BenchPostgres> {
  const bin = await binaries()
  const dir = await mkdtemp(join(tmpdir(), 'ruts-bench-pg-'))
  const asRoot = userInfo().uid === 0
  if (asRoot) {
    const { stdout: user } = await run('id', ['-u', 'postgres'])
    const { stdout: group } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(user), Number(group))
  }
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args)
  const data = join(dir, 'data')
  const port = await freePort()
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  // fsync and synchronous_commit off like the Redis without persistence: the bench measures CPU,
  // not the disk of whatever machine it runs on.
  const options = [
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`,
    '-c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top',
  ].join(' ')
  await tool('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0])
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
  await client.connect()
  await client.query('CREATE EXTENSION pg_stat_statements')
  const version = String((await client.query('SHOW server_version')).rows[0]?.server_version ?? 'unknown')
  const snapshot = async (): Promise<PostgresSnapshot> => {
    const { rows } = await client.query('SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements')
    return { statements: Number(rows[0]?.calls ?? 0), cpuMicros: await postgresCpuMicros(pid) }
  }
  await snapshot() // the first reading registers the statement itself
  const first = await snapshot()
  const second = await snapshot()
  const overhead = { statements: second.statements - first.statements, cpuMicros: 0 }
  return {
    port,
    version,
    pid,
    snapshot,
    overhead,
    async stop() {
      await client.end().catch(() => undefined)
      await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export function diffPostgres(after: PostgresSnapshot, before: PostgresSnapshot, overhead?: PostgresSnapshot) {
  return {
    cpuMicros: after.cpuMicros - before.cpuMicros,
    statements: after.statements - before.statements - (overhead?.statements ?? 0),
  }
}
