// `npm run bench` — ruts against the bare frameworks and the peer session libraries, in one run.
// Flags: --quick (smoke run), --only=<id substring>[,…], --scenarios=a,b, --rounds=N, --rate=<req/s>,
// --cpu-prof (server profiles into bench/.work/profiles), --out=<dir> (default bench/), --no-pin
// (leave processes on any core), --no-fleet / --fleet (skip / with --quick run the two-process
// projection check).
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SCENARIOS, type Scenario } from './apps/shared.js'
import { type ServerChild, startServer } from './child.js'
import { CONTENDERS, type Contender } from './contenders.js'
import { fleetCheck } from './fleet.js'
import { type Jar, lostUpdates, seedJars, sequential } from './load.js'
import { type BenchStores, measureWindow, medianSample } from './measure.js'
import { writeResults } from './output.js'
import { canPin, childrenOf, OTHERS_CORE, pin, SERVER_CORE } from './pin.js'
import { startPostgres } from './postgres.js'
import { diffSnapshots, startRedis } from './redis.js'
import type { Cell, RunParameters, RunResults, Sample } from './types.js'

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=', 2)
    return [name ?? '', value ?? 'true'] as const
  }),
)
const quick = args.has('quick')
const pinned = !args.has('no-pin') && canPin()
// Time budget (issue 17): the full run within 20 minutes, --quick within 5, on a 2-core machine.
// A cell's round is warm-up + saturated window + fixed-rate window + ~0.1 s per window (autocannon
// stops on its next 100 ms tick and opens its connections) + the counter readings; ~104 cells.
// The fixed-rate window lasts whole seconds (autocannon hands out the rate once a second).
const parameters: RunParameters = quick
  ? {
      quick,
      connections: 8,
      rounds: 1,
      warmupSeconds: 0.2,
      measureSeconds: 0.3,
      pacedSeconds: 1,
      costRate: 2000,
      probeRequests: 4,
      pinned,
    }
  : {
      quick,
      connections: 16,
      rounds: 3,
      warmupSeconds: 0.4,
      measureSeconds: 1,
      pacedSeconds: 1,
      costRate: 2000,
      probeRequests: 20,
      pinned,
    }
if (args.has('rounds')) parameters.rounds = Number(args.get('rounds'))
if (args.has('rate')) parameters.costRate = Number(args.get('rate'))
const only = args.get('only')?.split(',')
const scenarios = (args.get('scenarios')?.split(',') ?? SCENARIOS) as Scenario[]
const benchDir = fileURLToPath(new URL('.', import.meta.url))
const outDir = resolve(args.get('out') ?? benchDir)
const profileDir = args.has('cpu-prof') ? join(benchDir, '.work', 'profiles') : undefined

const started = performance.now()
/** Seconds since the run started, for the progress lines (the run has a time budget). */
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`

/** One line about an error, with its cause (fetch reports "fetch failed" and hides why in `cause`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause =
    error.cause instanceof Error ? ` (${(error.cause as Error & { code?: string }).code ?? error.cause.message})` : ''
  return `${error.message.split('\n')[0] ?? ''}${cause}`
}

interface Live {
  contender: Contender
  server: ServerChild
  /** Seeded cookie jars per scenario; `undefined` = no cookie (storm, baseline); absent = seeding failed. */
  jars: Map<Scenario, Jar[] | undefined>
  samples: Map<Scenario, Sample[]>
}

async function prepare(contender: Contender, stores: BenchStores, results: RunResults): Promise<Live | undefined> {
  const server = await startServer(contender, {
    redisPort: stores.redis.port,
    postgresPort: stores.postgres?.port,
    profileDir,
    core: parameters.pinned ? SERVER_CORE : undefined,
  }).catch((error: unknown) => {
    results.missing.push({ subject: contender.id, reason: describe(error) })
    console.log(`-- ${contender.id}: not run (${describe(error)})`)
  })
  if (server === undefined) return undefined
  const live: Live = { contender, server, jars: new Map(), samples: new Map() }
  for (const scenario of scenarios) {
    // The storm sends no cookie; the baseline has no sessions; everyone else gets one session per
    // connection, seeded for this scenario ("untouched" ones hold a counter).
    if (scenario === 'create' || contender.variant === 'bare') {
      live.jars.set(scenario, undefined)
      continue
    }
    try {
      live.jars.set(scenario, await seedJars(server.base, scenario, parameters.connections))
    } catch (error) {
      results.missing.push({ subject: `${contender.id} ${scenario}`, reason: `seeding failed: ${describe(error)}` })
    }
  }
  console.log(`-- ${contender.id}: started and seeded at ${elapsed()}`)
  return live
}

async function finish(live: Live, stores: BenchStores, results: RunResults): Promise<void> {
  const { contender, server } = live
  for (const [scenario, samples] of live.samples) {
    const { redis: redisCost, postgres: postgresCost, ...median } = medianSample(samples)
    const cell: Cell = { contender: contender.id, scenario, ...median, samples }
    const jar = live.jars.get(scenario)?.[0]
    const probe = parameters.probeRequests
    const probeRun = () => sequential(server.base, `/${scenario}`, jar, probe)
    if (redisCost !== undefined) {
      const before = await stores.redis.snapshot()
      await probeRun()
      const exchanges = diffSnapshots(await stores.redis.snapshot(), before, stores.redis.overhead).reads
      const topLevel = await stores.redis.countTopLevel(probeRun)
      cell.redis = { ...redisCost, roundTrips: exchanges / probe, topLevel: topLevel / probe }
    }
    if (postgresCost !== undefined && stores.postgres !== undefined) {
      const before = await stores.postgres.snapshot()
      await probeRun()
      const statements = (await stores.postgres.snapshot()).statements - before.statements
      cell.postgres = { ...postgresCost, probeStatements: (statements - stores.postgres.overhead.statements) / probe }
    }
    results.cells.push(cell)
  }
  if (contender.variant !== 'bare') {
    results.lostUpdate[contender.id] = await lostUpdates(server.base).catch((error: unknown) => describe(error))
  }
}

/** All contenders of one framework are alive at once so their rounds interleave. */
async function runFramework(group: Contender[], stores: BenchStores, results: RunResults): Promise<void> {
  const lives: Live[] = []
  try {
    // Started and seeded side by side: startup (tsx compiling the app) and seeding are waits, not
    // measurements, and the run has a time budget.
    for (const live of await Promise.all(group.map((contender) => prepare(contender, stores, results)))) {
      if (live !== undefined) lives.push(live)
    }
    for (let round = 0; round < parameters.rounds; round++) {
      for (const scenario of scenarios) {
        // Rotate the order each round so slow drift in the machine's load spreads over everyone.
        const order = lives.map((_, i) => lives[(i + round) % lives.length] as Live)
        for (const live of order) {
          if (!live.jars.has(scenario)) continue
          const sample = await measureWindow(
            live.contender,
            scenario,
            live.server,
            stores,
            live.jars.get(scenario),
            parameters,
          )
          live.samples.set(scenario, [...(live.samples.get(scenario) ?? []), sample])
          const failed = sample.errors + sample.non2xx > 0 ? `  ERRORS ${sample.errors}/${sample.non2xx}` : ''
          console.log(
            `r${round + 1} ${live.contender.id.padEnd(22)} ${scenario.padEnd(9)} ${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${sample.p50} ms  cpu ${sample.cpuPerRequest.toFixed(1)} (sat ${sample.saturatedCpuPerRequest.toFixed(1)}) µs/req${failed}`,
          )
        }
      }
    }
    for (const live of lives) await finish(live, stores, results)
    console.log(`-- probes and lost-update checks done at ${elapsed()}`)
  } finally {
    for (const live of lives) await live.server.stop()
  }
}

/** The contenders of the two-process projection check (on the counter scenario). */
const FLEET = ['fastify:ruts-redis', 'fastify:peer-redis']

function git(...command: string[]): string {
  try {
    return execFileSync('git', command, { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load = loadavg()[0] ?? 0
  const selected = CONTENDERS.filter(
    (contender) => only === undefined || only.some((part) => contender.id.includes(part)),
  )
  const redis = await startRedis()
  const postgres = selected.some((contender) => contender.stores.includes('postgres'))
    ? await startPostgres().catch(async (error: unknown) => {
        await redis.stop()
        throw error
      })
    : undefined
  const stores: BenchStores = { redis, postgres }
  if (parameters.pinned) {
    // The server child gets SERVER_CORE (when it starts); the load generator (this process), Redis
    // and Postgres (the postmaster, its running children, and the backends it forks later) the other.
    for (const pid of [
      process.pid,
      redis.pid,
      ...(postgres === undefined ? [] : [postgres.pid, ...childrenOf(postgres.pid)]),
    ])
      pin(pid, OTHERS_CORE)
  }
  const dirty = git('status', '--porcelain', 'src').length > 0 ? ' + uncommitted src changes' : ''
  const results: RunResults = {
    startedAt,
    finishedAt: '',
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()}`,
      node: process.version,
      redis: redis.version,
      postgres: postgres?.version ?? 'not run',
      commit: `${git('rev-parse', '--short', 'HEAD')}${dirty}`,
      loadAverage: [load, 0],
    },
    parameters,
    contenders: selected,
    missing: [],
    cells: [],
    lostUpdate: {},
  }
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
  // What the windows alone will take (startup, seeding and the probes come on top: ~0.5 min per framework).
  const cellRounds = selected.length * scenarios.length * parameters.rounds
  const perRound =
    parameters.warmupSeconds + parameters.measureSeconds + (parameters.pacedSeconds ?? parameters.measureSeconds) + 0.4
  console.log(
    `-- ${selected.length * scenarios.length} cells × ${parameters.rounds} round(s) × ~${perRound.toFixed(1)} s: windows ≈ ${((cellRounds * perRound) / 60).toFixed(1)} min`,
  )
  try {
    for (const framework of ['express', 'fastify', 'hono']) {
      const group = selected.filter((contender) => contender.framework === framework)
      if (group.length > 0) await runFramework(group, stores, results)
    }
    const fleet = selected.filter((contender) => FLEET.includes(contender.id))
    // A check made once per full run; a smoke run (--quick) skips it unless asked (--fleet).
    const runFleet = quick ? args.has('fleet') : !args.has('no-fleet')
    if (runFleet && fleet.length > 0 && scenarios.includes('counter')) {
      console.log('-- fleet check: one and two app processes against one Redis')
      results.fleet = await fleetCheck(fleet, 'counter', stores, parameters)
    }
  } finally {
    await redis.stop()
    await postgres?.stop()
  }
  results.finishedAt = new Date().toISOString()
  results.durationSeconds = Math.round((performance.now() - started) / 1000)
  results.machine.loadAverage[1] = loadavg()[0] ?? 0
  const markdown = await writeResults(outDir, results)
  console.log(`\n${markdown}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
