// The cookie probe (issue 17, item 3): what answering every counter request with a `Set-Cookie`
// costs the server. ruts extends the session's lifetime on each write and re-sends the cookie with
// the new Max-Age; express-session re-sends it only for a new session. Two arms per framework, both
// ruts + MemoryStore with the same `commit()` wrapper (bench/apps/stores.ts): `resend` passes the
// refresh cookie through, `quiet` drops it (and so the `Cache-Control: no-store` beside it). The
// arms and the bare framework run interleaved, rotated each round, measured like the main bench
// (bench/measure.ts: warm-up, a saturated and a fixed-rate window, the server pinned to its core),
// and the per-round difference resend − quiet is reported as a median.
//
// Run after a build: `npm run build && npx tsx bench/cookie.ts [--rounds=9] [--scenarios=counter,read]`
import { SCENARIOS, type Scenario } from './apps/shared.js'
import { type ServerChild, startServer } from './child.js'
import { CONTENDERS, COOKIE_PROBES, type Contender } from './contenders.js'
import { cookieHeader, type Jar, seedJars } from './load.js'
import { measureWindow } from './measure.js'
import { canPin, OTHERS_CORE, pin, SERVER_CORE } from './pin.js'
import { startRedis } from './redis.js'
import { median } from './targets.js'
import type { RunParameters, Sample } from './types.js'

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=', 2)
    return [name ?? '', value ?? 'true'] as const
  }),
)
const scenarios = (args.get('scenarios')?.split(',') ?? ['counter']) as Scenario[]
for (const scenario of scenarios) {
  if (!SCENARIOS.includes(scenario) || scenario === 'create') throw new Error(`not a probe scenario: ${scenario}`)
}
const parameters: RunParameters = {
  quick: false,
  connections: 16,
  rounds: Number(args.get('rounds') ?? 9),
  warmupSeconds: 1,
  measureSeconds: 1,
  costRate: 2000,
  probeRequests: 0,
  pinned: canPin(),
}

interface Arm {
  contender: Contender
  server: ServerChild
  jars: Map<Scenario, Jar[] | undefined>
  samples: Map<Scenario, Sample[]>
}

/** How many response headers a request on a seeded session gets back: shows each arm does what it says. */
async function setCookieCount(base: string, scenario: Scenario, jar: Jar | undefined): Promise<number> {
  const response = await fetch(`${base}/${scenario}`, { headers: jar?.size ? { cookie: cookieHeader(jar) } : {} })
  await response.text()
  return response.headers.getSetCookie().length
}

const redis = await startRedis()
if (parameters.pinned) pin(process.pid, OTHERS_CORE)
const arms: Arm[] = []
try {
  const frameworks = ['express', 'fastify'] as const
  for (const framework of frameworks) {
    const group = [
      ...CONTENDERS.filter((contender) => contender.id === `${framework}:bare`),
      ...COOKIE_PROBES.filter((contender) => contender.framework === framework),
    ]
    for (const contender of group) {
      const server = await startServer(contender, {
        redisPort: redis.port,
        core: parameters.pinned ? SERVER_CORE : undefined,
      })
      const arm: Arm = { contender, server, jars: new Map(), samples: new Map() }
      arms.push(arm)
      for (const scenario of scenarios) {
        const jars =
          contender.variant === 'bare' ? undefined : await seedJars(server.base, scenario, parameters.connections)
        arm.jars.set(scenario, jars)
        const lines = await setCookieCount(server.base, scenario, jars?.[0])
        console.log(`-- ${contender.id} ${scenario}: ${lines} Set-Cookie line(s) on a seeded request`)
      }
    }
  }
  for (let round = 0; round < parameters.rounds; round++) {
    for (const framework of frameworks) {
      const group = arms.filter((arm) => arm.contender.framework === framework)
      for (const scenario of scenarios) {
        for (let i = 0; i < group.length; i++) {
          const arm = group[(i + round) % group.length] as Arm
          const { contender, server } = arm
          const sample = await measureWindow(contender, scenario, server, { redis }, arm.jars.get(scenario), parameters)
          arm.samples.set(scenario, [...(arm.samples.get(scenario) ?? []), sample])
          console.log(
            `r${round + 1} ${contender.id.padEnd(28)} ${scenario.padEnd(8)} ${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s  cpu ${sample.cpuPerRequest.toFixed(1)} (sat ${sample.saturatedCpuPerRequest.toFixed(1)}) µs/req`,
          )
        }
      }
    }
  }
} finally {
  for (const arm of arms) await arm.server.stop()
  await redis.stop()
}

/** Per-round differences of two arms, then the median (a slow spell of the machine hits both). */
function paired(a: Sample[], b: Sample[], pick: (sample: Sample) => number): { median: number; all: number[] } {
  const all = a.slice(0, b.length).map((sample, i) => pick(sample) - pick(b[i] as Sample))
  return { median: median(all), all }
}

const fixed = (value: number) => value.toFixed(1)
console.log(
  '\nframework scenario  window | resend − quiet µs/req (rounds) | resend − bare | share | req/s resend vs quiet',
)
for (const framework of ['express', 'fastify']) {
  for (const scenario of scenarios) {
    const of = (probe: string) =>
      arms.find((arm) => arm.contender.id === `${framework}:${probe}`)?.samples.get(scenario) ?? []
    const [bare, resend, quiet] = [of('bare'), of('ruts-memory~resend'), of('ruts-memory~quiet')]
    for (const [window, pick] of [
      ['fixed', (sample: Sample) => sample.cpuPerRequest],
      ['sat.', (sample: Sample) => sample.saturatedCpuPerRequest],
    ] as const) {
      const cookie = paired(resend, quiet, pick)
      const overhead = paired(resend, bare, pick)
      const rps = (samples: Sample[]) => median(samples.map((sample) => sample.requestsPerSecond)).toFixed(0)
      console.log(
        `${framework.padEnd(9)} ${scenario.padEnd(9)} ${window.padEnd(6)} | ${fixed(cookie.median).padStart(5)} (${cookie.all.map(fixed).join(' ')}) | ${fixed(overhead.median)} | ${((cookie.median / overhead.median) * 100).toFixed(0)} % | ${rps(resend)} vs ${rps(quiet)}`,
      )
    }
  }
}
