// One contender's HTTP server, run as a child process of bench/run.ts so its CPU time is its own.
// Protocol over IPC: the child sends { type: 'ready', port } once listening; the parent sends
// { type: 'cpu' } and gets { type: 'cpu', micros } (process.cpuUsage user+system, cumulative) back,
// and { type: 'stop' } to make it exit cleanly (so `--cpu-prof` can write its profile).
// With a worker count as second argument it is a Node `cluster` primary: the workers share one
// port and its CPU reading is theirs summed (the fleet check: two app processes, one Redis).
import cluster, { type Worker } from 'node:cluster'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { expressApp } from './apps/express.js'
import { fastifyApp } from './apps/fastify.js'
import { honoApp } from './apps/hono.js'
import { CONTENDERS, COOKIE_PROBES, type Contender } from './contenders.js'

export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; micros: number }
  | { type: 'error'; message: string }
export type ParentMessage = { type: 'cpu' } | { type: 'stop' }

async function listen(contender: Contender): Promise<number> {
  if (contender.framework === 'express') {
    const app = await expressApp(contender.variant)
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    return (server.address() as AddressInfo).port
  }
  if (contender.framework === 'fastify') {
    const app = await fastifyApp(contender.variant)
    await app.listen({ port: 0, host: '127.0.0.1' })
    return (app.server.address() as AddressInfo).port
  }
  const app = await honoApp(contender.variant)
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
  })
}

function send(message: ChildMessage): void {
  process.send?.(message)
}

const ownCpu = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/** Ask one worker for its CPU reading. */
function workerCpu(worker: Worker): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type !== 'cpu') return
      worker.off('message', onMessage)
      resolve(message.micros)
    }
    worker.on('message', onMessage)
    worker.send({ type: 'cpu' } satisfies ParentMessage)
  })
}

/** The primary of a cluster: fork the workers, report ready once all listen, sum their CPU. */
async function primary(workers: number): Promise<number> {
  const forked = Array.from({ length: workers }, () => cluster.fork())
  const ports = await Promise.all(
    forked.map(
      (worker) =>
        new Promise<number>((resolve, reject) => {
          worker.once('exit', (code) => reject(new Error(`worker exited (${code})`)))
          worker.on('message', (message: ChildMessage) => {
            if (message.type === 'ready') resolve(message.port)
            if (message.type === 'error') reject(new Error(message.message))
          })
        }),
    ),
  )
  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'cpu') {
      const micros = await Promise.all(forked.map(workerCpu))
      send({ type: 'cpu', micros: micros.reduce((sum, value) => sum + value, ownCpu()) })
    }
  })
  return ports[0] ?? 0
}

const contender = [...CONTENDERS, ...COOKIE_PROBES].find((candidate) => candidate.id === process.argv[2])
if (contender === undefined) throw new Error(`unknown contender ${process.argv[2]}`)
const workers = Number(process.argv[3] ?? 0)
process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu' && !(cluster.isPrimary && workers > 0)) send({ type: 'cpu', micros: ownCpu() })
  else if (message.type === 'stop') process.exit(0)
})
// An interrupted runner must not leave servers behind: the IPC channel closing means it is gone.
process.on('disconnect', () => process.exit(0))
const listening = cluster.isPrimary && workers > 0 ? primary(workers) : listen(contender)
listening.then(
  (port) => send({ type: 'ready', port }),
  (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
    process.exit(1)
  },
)
