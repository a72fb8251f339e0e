// Starting and talking to one contender's server process (bench/server.ts).
import { type ChildProcess, fork } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Contender } from './contenders.js'
import { pin } from './pin.js'
import type { ChildMessage, ParentMessage } from './server.js'

export interface ServerChild {
  base: string
  /** The child's cumulative CPU time (user + system), in µs. */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))

/** Where the child finds the runner's stores, and how it runs. */
export interface ServerOptions {
  redisPort: number
  postgresPort?: number | undefined
  /** Write a CPU profile into this directory when stopped (`--cpu-prof`). */
  profileDir?: string | undefined
  /** Pin the server (every thread) to this core once it listens. */
  core?: number | undefined
  /** Run as a Node cluster of this many worker processes on one port. */
  workers?: number | undefined
}

/**
 * Fork the server for `contender` under tsx. With `profileDir`, the child runs with `--cpu-prof`
 * and writes its profile there when stopped.
 */
export function startServer(contender: Contender, options: ServerOptions): Promise<ServerChild> {
  const { profileDir } = options
  const execArgv = ['--import', 'tsx']
  // One directory per contender: Node writes one profile per thread (tsx's loader hooks run on
  // their own thread), so a fixed file name would let the loader's profile overwrite the server's.
  if (profileDir !== undefined)
    execArgv.push('--cpu-prof', '--cpu-prof-dir', join(profileDir, contender.id.replace(':', '-')))
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_REDIS_PORT: String(options.redisPort), NODE_ENV: 'production' }
  if (options.postgresPort !== undefined) env.BENCH_PG_PORT = String(options.postgresPort)
  if (contender.cookieProbe !== undefined) env.BENCH_COOKIE_PROBE = contender.cookieProbe
  const args = options.workers === undefined ? [contender.id] : [contender.id, String(options.workers)]
  // The runner pinned itself to one core, and a child inherits that: a child to be pinned later is
  // started through taskset on every core, so compiling and seeding run in parallel.
  const everyCore = `0-${cpus().length - 1}`
  const child: ChildProcess = fork(SERVER, args, {
    ...(options.core === undefined
      ? { execArgv }
      : { execPath: 'taskset', execArgv: ['-c', everyCore, process.execPath, ...execArgv] }),
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000)
  })
  const send = (message: ParentMessage) => child.send(message)
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${contender.id} exited (${code}) before listening: ${stderr.trim()}`))
    child.once('exit', onExit)
    child.once('message', (message: ChildMessage) => {
      if (message.type === 'error') {
        reject(new Error(`${contender.id}: ${message.message}`))
        return
      }
      if (message.type !== 'ready') return
      child.off('exit', onExit)
      if (options.core !== undefined && child.pid !== undefined) pin(child.pid, options.core)
      resolve({
        base: `http://127.0.0.1:${message.port}`,
        cpuMicros: () =>
          new Promise((answer) => {
            const onMessage = (reply: ChildMessage) => {
              if (reply.type !== 'cpu') return
              child.off('message', onMessage)
              answer(reply.micros)
            }
            child.on('message', onMessage)
            send({ type: 'cpu' })
          }),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            send({ type: 'stop' })
          }),
      })
    })
  })
}
