// The cookie probe in one process (issue 17, item 3): the same A/B as bench/cookie.ts — ruts +
// MemoryStore with the refresh `Set-Cookie` re-sent (`resend`) or suppressed (`quiet`), beside the
// bare framework — but each request injected into the app in-process (light-my-request, what
// Fastify's `inject()` is built on: a real http.IncomingMessage/ServerResponse pair, the headers
// serialized as for a socket, no kernel and no load generator). CPU time per request is then
// measured over thousands of requests at a time, interleaved, so a difference of a few µs shows
// even on a busy machine, where the HTTP A/B's one-second windows swing by hundreds.
//
// Run after a build: `npm run build && npx tsx bench/cookie-inject.ts [--rounds=400] [--requests=200]`
import type { RequestListener } from 'node:http'
// A dependency of Fastify (a devDependency here), which builds its `inject()` on it.
import inject from 'light-my-request'
import { expressApp } from './apps/express.js'
import { fastifyApp } from './apps/fastify.js'
import type { Variant } from './contenders.js'
import { median } from './targets.js'

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=', 2)
    return [name ?? '', value ?? 'true'] as const
  }),
)
const rounds = Number(args.get('rounds') ?? 400)
const requests = Number(args.get('requests') ?? 200)
const ARMS = ['bare', 'resend', 'quiet'] as const
type ArmName = (typeof ARMS)[number]

type Dispatch = (options: inject.InjectOptions) => Promise<inject.Response>

interface Arm {
  name: ArmName
  dispatch: Dispatch
  cookie: string | undefined
  micros: number[]
}

type Framework = 'express' | 'fastify' | 'node:http'

/** A `Set-Cookie` line ruts sent in the Express arm, split as `serializeSessionCookie` joins it. */
let sample = { pair: 'session=x', attributes: '' }

/**
 * The header work alone, on node:http without a framework: the `resend` arm builds the line as
 * ruts does (`name=value; Max-Age=n` + the fixed attributes) and sets it with
 * `Cache-Control: no-store`; `bare` and `quiet` answer the same body without them.
 */
function headersOnly(arm: ArmName): RequestListener {
  return (_request, response) => {
    if (arm === 'resend') {
      response.setHeader('set-cookie', `${sample.pair}; Max-Age=${3600}${sample.attributes}`)
      response.setHeader('cache-control', 'no-store')
    }
    response.setHeader('content-type', 'text/plain; charset=utf-8')
    response.end('count 1')
  }
}

async function build(framework: Framework, arm: ArmName): Promise<Dispatch> {
  if (framework === 'node:http') {
    const listener = headersOnly(arm)
    return (options) => inject(listener, options)
  }
  // bench/apps/stores.ts reads the probe mode when it builds the layer.
  if (arm === 'bare') delete process.env.BENCH_COOKIE_PROBE
  else process.env.BENCH_COOKIE_PROBE = arm
  const variant: Variant = arm === 'bare' ? 'bare' : 'ruts-memory'
  if (framework === 'express') {
    const app = (await expressApp(variant)) as unknown as RequestListener
    return (options) => inject(app, options)
  }
  const app = await fastifyApp(variant)
  await app.ready()
  return (options) => app.inject(options)
}

async function get(arm: Arm, path: string): Promise<{ setCookie: string[]; body: string }> {
  const response = await arm.dispatch({
    method: 'GET',
    url: path,
    headers: arm.cookie === undefined ? {} : { cookie: arm.cookie },
  })
  if (response.statusCode !== 200) throw new Error(`${arm.name} ${path}: ${response.statusCode}`)
  const header = response.headers['set-cookie']
  return { setCookie: header === undefined ? [] : ([] as string[]).concat(header), body: response.body }
}

/** Standard error of a median: 1.2533 σ / √n, σ from the interquartile range (robust to outliers). */
function spread(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const quartile = (q: number) => sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN
  return (1.2533 * ((quartile(0.75) - quartile(0.25)) / 1.349)) / Math.sqrt(values.length)
}

// `--only=<framework>:<arm> --count=N`: build that one arm, seed it and serve N requests, nothing
// else and no output — for counting instructions under valgrind (see docs/bench.md), which a busy
// machine does not disturb: (count at N₂ − count at N₁) ÷ (N₂ − N₁) is one request's instructions.
const only = args.get('only')
if (only !== undefined) {
  const framework = only.slice(0, only.lastIndexOf(':')) as Framework
  const name = only.slice(only.lastIndexOf(':') + 1) as ArmName
  const arm: Arm = { name, dispatch: await build(framework, name), cookie: undefined, micros: [] }
  if (name !== 'bare' && framework !== 'node:http') {
    arm.cookie = (await get(arm, '/seed?scenario=counter')).setCookie[0]?.split(';')[0]
  }
  for (let n = 0; n < Number(args.get('count') ?? 0); n++) await get(arm, '/counter')
  process.exit(0)
}

const results: string[] = []
for (const framework of ['express', 'fastify', 'node:http'] as const) {
  const arms: Arm[] = []
  for (const name of ARMS) {
    const arm: Arm = { name, dispatch: await build(framework, name), cookie: undefined, micros: [] }
    if (name !== 'bare' && framework !== 'node:http') {
      const seeded = await get(arm, '/seed?scenario=counter')
      arm.cookie = seeded.setCookie[0]?.split(';')[0]
    }
    const probe = await get(arm, '/counter')
    const line = probe.setCookie[0]
    if (framework === 'express' && line !== undefined) {
      sample = { pair: line.split(';')[0] ?? '', attributes: line.slice(line.indexOf(';', line.indexOf('Max-Age'))) }
    }
    console.log(`-- ${framework} ${name}: ${probe.setCookie.length} Set-Cookie line(s), body "${probe.body}"`)
    arms.push(arm)
  }
  // Warm every arm up (JIT, the session map) before anything is kept.
  for (const arm of arms) for (let n = 0; n < 10 * requests; n++) await get(arm, '/counter')
  // Many short rounds, the arms back to back in a rotating order: neighbouring batches see the same
  // load from the rest of the machine, and the median of the per-round differences cancels it.
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < arms.length; i++) {
      const arm = arms[(i + round) % arms.length] as Arm
      const before = process.cpuUsage()
      for (let n = 0; n < requests; n++) await get(arm, '/counter')
      const used = process.cpuUsage(before)
      arm.micros.push((used.user + used.system) / requests)
    }
  }
  const of = (name: ArmName) => arms.find((arm) => arm.name === name)?.micros ?? []
  const paired = (a: number[], b: number[]) => a.map((value, i) => value - (b[i] ?? Number.NaN))
  const cookie = paired(of('resend'), of('quiet'))
  const overhead = paired(of('resend'), of('bare'))
  const fixed = (value: number) => value.toFixed(2)
  // The fastest round too: other work on the machine only ever adds, so it is the closest to an idle machine.
  const arm = (name: ArmName) => `${name} ${fixed(median(of(name)))} (min ${fixed(Math.min(...of(name)))})`
  results.push(
    `${framework.padEnd(8)} ${arm('bare')}  ${arm('resend')}  ${arm('quiet')} µs/req | resend − quiet ${fixed(median(cookie))} ± ${fixed(spread(cookie))} µs | resend − bare ${fixed(median(overhead))} ± ${fixed(spread(overhead))} µs | share ${((median(cookie) / median(overhead)) * 100).toFixed(0)} %`,
  )
}
console.log(
  `\n${rounds} rounds × ${requests} injected GET /counter per arm, medians of the per-round values and differences (± its standard error)`,
)
for (const line of results) console.log(line)
