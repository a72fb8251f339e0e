// One contender's HTTP server, run as a child process of bench/run.ts so its CPU time is its own.
// Protocol over IPC: the child sends { type: 'ready', port } once listening; the parent sends
// { type: 'cpu' } and gets { type: 'cpu', micros } (process.cpuUsage user+system, cumulative) back,
// and { type: 'stop' } to make it exit cleanly (so `--cpu-prof` can write its profile).
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { expressApp } from './apps/express.js'
import { fastifyApp } from './apps/fastify.js'
import { honoApp } from './apps/hono.js'
import { CONTENDERS, type Contender } from './contenders.js'

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

const contender = CONTENDERS.find((candidate) => candidate.id === process.argv[2])
if (contender === undefined) throw new Error(`unknown contender ${process.argv[2]}`)
process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu') {
    const usage = process.cpuUsage()
    send({ type: 'cpu', micros: usage.user + usage.system })
  } else if (message.type === 'stop') {
    process.exit(0)
  }
})
// An interrupted runner must not leave servers behind: the IPC channel closing means it is gone.
process.on('disconnect', () => process.exit(0))
listen(contender).then(
  (port) => send({ type: 'ready', port }),
  (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
    process.exit(1)
  },
)
