// Starting and talking to one contender's server process (bench/server.ts).
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Contender } from './contenders.js'
import type { ChildMessage, ParentMessage } from './server.js'

export interface ServerChild {
  base: string
  /** The child's cumulative CPU time (user + system), in µs. */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))

/**
 * Fork the server for `contender` under tsx. With `profileDir`, the child runs with `--cpu-prof`
 * and writes its profile there when stopped.
 */
export function startServer(contender: Contender, redisPort: number, profileDir?: string): Promise<ServerChild> {
  const execArgv = ['--import', 'tsx']
  // One directory per contender: Node writes one profile per thread (tsx's loader hooks run on
  // their own thread), so a fixed file name would let the loader's profile overwrite the server's.
  if (profileDir !== undefined)
    execArgv.push('--cpu-prof', '--cpu-prof-dir', join(profileDir, contender.id.replace(':', '-')))
  const child: ChildProcess = fork(SERVER, [contender.id], {
    execArgv,
    env: { ...process.env, BENCH_REDIS_PORT: String(redisPort), NODE_ENV: 'production' },
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
