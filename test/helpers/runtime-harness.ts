import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { remoteStoreControl, type StartServer } from '../../src/testing/adapter-suite.js'

/** Bun or Deno, run from the binaries their npm packages ship. */
export type Runtime = 'bun' | 'deno'

const root = fileURLToPath(new URL('../../', import.meta.url))
const script = fileURLToPath(new URL('../runtimes/server.ts', import.meta.url))
const binary = (runtime: Runtime) => `${root}node_modules/.bin/${runtime}`

// Deno imports the TypeScript sources directly: `--sloppy-imports` maps the sources' `./x.js`
// specifiers to `./x.ts` (as tsc's NodeNext resolution does), and `--node-modules-dir=manual` takes
// npm packages (hono, msgpackr) from the node_modules npm installed instead of fetching them.
const COMMANDS: Record<Runtime, string[]> = {
  bun: ['run', script],
  deno: [
    'run',
    '--allow-net=127.0.0.1',
    '--allow-env',
    '--allow-read',
    '--node-modules-dir=manual',
    '--sloppy-imports',
    // Nothing to pin: no remote imports, and a deno.lock must not appear in the repo.
    '--no-lock',
    script,
  ],
}

/**
 * @param runtime - bun or deno
 * @returns why the runtime cannot run here, or `undefined`
 */
export function missingRuntime(runtime: Runtime): string | undefined {
  return existsSync(binary(runtime)) ? undefined : `${binary(runtime)} is not installed`
}

/**
 * The adapter suite's harness for a Web-standard adapter under Bun or Deno: test/runtimes/server.ts
 * in a child process builds the same layer (cookie `maxAge` from the suite's layer) over its own
 * counting MemoryStore and serves with `Bun.serve` / `Deno.serve`; the suite reads counts and injects
 * failures through the child's `/__control/*` routes.
 *
 * @param runtime - bun or deno
 * @param adapter - the Web or the Hono adapter
 * @returns a StartServer for the suite
 */
export function runtimeHarness(runtime: Runtime, adapter: 'web' | 'hono'): StartServer {
  return async (layer) => {
    const child = spawn(binary(runtime), [...COMMANDS[runtime], adapter, String(layer.cookie.maxAge)], {
      cwd: root,
      // stderr is kept for a failed start only: Hono's default onError logs every expected 503.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    let errors = ''
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000)
    })
    const port = await new Promise<number>((resolve, reject) => {
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const line = /\{"port":(\d+)\}/.exec(output)
        if (line) resolve(Number(line[1]))
      })
      child.once('exit', (code) =>
        reject(new Error(`${runtime} exited with ${code} before listening: ${output}${errors}`)),
      )
      child.once('error', reject)
    })
    const url = `http://127.0.0.1:${port}`
    const control = remoteStoreControl(url)
    return {
      url,
      control,
      close: async () => {
        child.stdin.end()
        child.kill('SIGTERM')
        await exited
      },
    }
  }
}
