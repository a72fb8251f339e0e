// The adapter suite's server under Bun or Deno (never Node): the Web or Hono suite app on the
// runtime's own HTTP server, over a counting MemoryStore that the suite in the Node test process
// reads and fails through the `/__control/*` routes. Usage: `server.ts <web|hono> <cookie maxAge>`.
// Prints `{"port":N}` once listening, and exits when its stdin closes (the test process went away).
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { CONTROL_PREFIX, countingStore, storeControlResponse, suiteHandler } from '../../src/testing/server.js'
import { honoSuiteApp, webSuiteHandler } from '../helpers/web-apps.js'

type Fetch = (request: Request) => Response | Promise<Response>
interface BunRuntime {
  argv: string[]
  stdin: { stream(): ReadableStream<Uint8Array> }
  serve(options: { port: number; hostname: string; fetch: Fetch }): { port: number }
}
interface DenoRuntime {
  args: string[]
  stdin: { readable: ReadableStream<Uint8Array> }
  exit(code: number): never
  serve(options: { port: number; hostname: string; onListen(address: { port: number }): void }, handler: Fetch): unknown
}
const { Bun, Deno } = globalThis as unknown as { Bun?: BunRuntime; Deno?: DenoRuntime }

const [adapter, maxAge] = Deno?.args ?? Bun?.argv.slice(2) ?? []
const store = countingStore(new MemoryStore())
const layer = new SessionLayer({ store, cookie: { maxAge: Number(maxAge) } })
const hono = adapter === 'hono' ? honoSuiteApp(layer, suiteHandler) : undefined
// Bun.serve passes its server as a second argument, which Hono would take for `env`: call with one.
const app: Fetch = hono ? (request) => hono.fetch(request) : webSuiteHandler(layer, suiteHandler)

const fetch: Fetch = (request) => {
  const url = new URL(request.url)
  return url.pathname.startsWith(CONTROL_PREFIX) ? storeControlResponse(store, url) : app(request)
}

const announce = (port: number) => console.log(JSON.stringify({ port }))
const exit = () =>
  Deno ? Deno.exit(0) : (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(0)
async function exitWhenParentGoes(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader()
  while (!(await reader.read()).done) {}
  exit()
}

if (Deno) {
  Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => announce(port) }, fetch)
  void exitWhenParentGoes(Deno.stdin.readable)
} else if (Bun) {
  announce(Bun.serve({ port: 0, hostname: '127.0.0.1', fetch }).port)
  void exitWhenParentGoes(Bun.stdin.stream())
} else {
  throw new Error('test/runtimes/server.ts runs under Bun or Deno')
}
