import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { RunningServer } from '../../src/testing/adapter-suite.js'
import { remoteStoreControl } from '../../src/testing/adapter-suite.js'

/** A built framework app to run: the command, its directory and the environment it needs. */
export interface AppCommand {
  /** e.g. `['node_modules/.bin/next', 'start']` or `['node', 'build']` */
  command: [string, ...string[]]
  cwd: string
  env: (port: number) => Record<string, string>
  /** A path that answers 200 once the server is up. @default '/__control/counts' (the suite's) */
  ready?: string
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Start a built framework app (its real production server) on a free loopback port, wait until it
 * answers, and return it with a {@link RunningServer.control} over its `/__control/*` routes.
 *
 * @param app - how to start it
 * @param maxAge - the suite layer's cookie `maxAge`, passed as `RUTS_SUITE_MAX_AGE`
 * @returns the running server
 */
export async function startApp(app: AppCommand, maxAge = 3600): Promise<RunningServer> {
  const port = await freePort()
  const [command, ...args] = app.command
  const child = spawn(command, args, {
    cwd: app.cwd,
    env: { ...process.env, ...app.env(port), RUTS_SUITE_MAX_AGE: String(maxAge), NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let errors = ''
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${errors}`)
    const answered = await fetch(`${url}${app.ready ?? '/__control/counts'}`).then(
      (response) => response.ok,
      () => false,
    )
    if (answered) break
    if (Date.now() > deadline) throw new Error(`${command} did not answer within 30 s: ${errors}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return {
    url,
    control: remoteStoreControl(url),
    close: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}
