import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

// Helpers that run private redis-server processes on loopback for the tests. They never talk to a
// server they did not start (in particular not to a shared one on 127.0.0.1:6379).

const run = promisify(execFile)

/** A redis-server process this test run started. */
export interface RedisProcess {
  readonly port: number
  readonly dir: string
  /** Stop the process (SIGKILL when `hard`) and wait until it has exited. */
  stop(hard?: boolean): Promise<void>
}

/** `undefined` when redis-server and redis-cli are installed, else why not. */
export function missingRedisBinaries(): string | undefined {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' })
    if (probe.error !== undefined || probe.status !== 0) return `${binary} is not installed`
  }
  return undefined
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A free loopback port whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port
  }
  throw new Error('no free port pair found')
}

/** Run redis-cli against one of our servers. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])
  return stdout.trim()
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const ready = await check().catch((error: unknown) => {
      if (error instanceof ExitedEarly) throw error
      return false
    })
    if (ready) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * Start `redis-server` on `port` (a free one by default) with persistence off, in its own
 * directory under the OS temp dir (reused when `dir` is given, e.g. for a restart).
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  // A free port can be taken between the check and the bind (other test files, other work on the
  // machine): the server then exits at once, and a chosen port is tried again with another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(options)
    } catch (error) {
      if (options.port !== undefined || attempt === 3 || !(error instanceof ExitedEarly)) throw error
    }
  }
}

type RedisOptions = { port?: number; dir?: string; cluster?: boolean; args?: readonly string[]; config?: string }

/** The server exited before it answered: its port was taken, most likely. */
class ExitedEarly extends Error {}

async function startRedisOnce(options: RedisOptions): Promise<RedisProcess> {
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ruts-redis-')))
  // A config file (a Sentinel's, which Sentinel rewrites) must come first on the command line.
  const args: string[] = options.config === undefined ? [] : [options.config]
  args.push('--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir)
  args.push('--enable-debug-command', 'local', '--loglevel', 'warning', ...(options.args ?? []))
  if (options.cluster) {
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '3000',
    )
  }
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let gone = false
  void exited.then(() => {
    gone = true
  })
  try {
    await waitFor(async () => {
      if (gone) throw new ExitedEarly(`redis-server on port ${port} exited before it answered`)
      // Bounded: when the port turned out to be another program's, it may accept and never answer.
      const info = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'server'], { timeout: 2_000 })
      const pid = /process_id:(\d+)/.exec(info.stdout)?.[1]
      if (pid === undefined) return false
      // Another test file's server took the port first: ours cannot bind it, and must not be used.
      if (Number(pid) !== child.pid) throw new ExitedEarly(`port ${port} belongs to another redis-server`)
      return true
    }, `redis-server on port ${port}`)
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    dir,
    async stop(hard = false) {
      if (child.exitCode === null && child.signalCode === null) child.kill(hard ? 'SIGKILL' : 'SIGTERM')
      await exited
    },
  }
}

/** Three masters in cluster mode, slots assigned, `cluster_state:ok` on every node. */
export async function startCluster(): Promise<RedisProcess[]> {
  const nodes = await startEach([{ cluster: true }, { cluster: true }, { cluster: true }])
  try {
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'])
    for (const node of nodes) {
      await waitFor(
        async () => (await cli(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        'cluster_state:ok',
      )
    }
    return nodes
  } catch (error) {
    await stopAll(nodes)
    throw error
  }
}

/** Start several servers in parallel; if one fails, stop the others and rethrow. */
export async function startEach(options: Parameters<typeof startRedis>[0][]): Promise<RedisProcess[]> {
  const results = await Promise.allSettled(options.map((each) => startRedis(each)))
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const failure = results.find((result) => result.status === 'rejected')
  if (failure === undefined) return started
  await stopAll(started)
  throw failure.reason
}

/** Stop servers and remove their directories. */
export async function stopAll(processes: readonly RedisProcess[]): Promise<void> {
  await Promise.all(processes.map((server) => server.stop()))
  await Promise.all(processes.map((server) => rm(server.dir, { recursive: true, force: true })))
}

/**
 * The port of the master serving `key`'s slot, from `CLUSTER KEYSLOT` and `CLUSTER NODES`.
 *
 * @param ports - nodes of the cluster (the first one is asked)
 * @param key - a Redis key
 * @returns the master's port
 */
export async function ownerOf(ports: readonly number[], key: string): Promise<number> {
  const slot = Number(await cli(ports[0] ?? 0, 'CLUSTER', 'KEYSLOT', key))
  for (const line of (await cli(ports[0] ?? 0, 'CLUSTER', 'NODES')).split('\n')) {
    const [, address = '', flags = '', , , , , , ...ranges] = line.trim().split(' ')
    if (!flags.includes('master')) continue
    for (const range of ranges) {
      const [low = -1, high = low] = range.split('-').map(Number)
      if (slot >= low && slot <= high) return Number(address.split('@')[0]?.split(':')[1])
    }
  }
  throw new Error(`no master serves slot ${slot}`)
}

/**
 * Run `work` while the server on `port` is frozen with SIGSTOP (at once, unlike `DEBUG SLEEP`, which
 * starts at an unknown later time on a loaded machine); SIGCONT afterwards, whatever happens.
 *
 * @param port - a server this run started
 * @param work - what to do meanwhile
 * @returns what `work` returns
 */
export async function whileFrozen<T>(port: number, work: () => Promise<T>): Promise<T> {
  const pid = Number(/process_id:(\d+)/.exec(await cli(port, 'INFO', 'server'))?.[1])
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no process id from the server on ${port}`)
  process.kill(pid, 'SIGSTOP')
  try {
    return await work()
  } finally {
    process.kill(pid, 'SIGCONT')
  }
}

/**
 * Arguments for a data node whose full resyncs start at once: Redis' default
 * (`repl-diskless-sync-delay 5`) holds one back 5 s in case more replicas arrive to share it. The test
 * topologies have one replica per primary, and after a failover or a restart that resync decides how
 * long writes with `waitForReplicas` cannot be confirmed.
 */
export const IMMEDIATE_FULL_SYNC: readonly string[] = ['--repl-diskless-sync-delay', '0']
