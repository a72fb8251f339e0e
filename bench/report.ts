// Turns one run into bench/RESULTS.md: the tables, the store tier, the lost-update check and the
// targets (computed in targets.ts).
import type { Scenario } from './apps/shared.js'
import type { Contender, Framework } from './contenders.js'
import {
  cellOf,
  computeOverheads,
  evaluateTargets,
  fixed,
  perCore,
  REDIS_CPU_SCENARIOS,
  STORE_NOISE_MICROS,
  scenariosOf,
  storesOf,
  type Target,
} from './targets.js'
import type { Cell, RunResults } from './types.js'

export { computeOverheads, evaluateTargets, MIN_ROUND_TRIPS, NOISE_MICROS } from './targets.js'

const FRAMEWORKS: Framework[] = ['express', 'fastify', 'hono']

/** The median rate the fixed-rate windows actually delivered. */
function pacedRate(results: RunResults): number {
  const rates = results.cells.map((cell) => cell.pacedRequestsPerSecond).sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)] ?? Number.NaN
}

function row(values: (string | number)[]): string {
  return `| ${values.join(' | ')} |`
}

const bold = (contender: Contender) => (contender.ruts ? `**${contender.label}**` : contender.label)

function appTable(results: RunResults, contenders: Contender[], scenario: Scenario): string[] {
  const lines = [
    row([
      'contender',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/req (fixed)',
      'over bare (fixed)',
      'CPU µs/req (sat.)',
      'over bare (sat.)',
      'core busy (sat.)',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ]
  for (const contender of contenders) {
    const cell = cellOf(results, contender.id, scenario)
    if (cell === undefined) continue
    const failed = cell.errors + cell.non2xx > 0 ? ` ⚠ ${cell.errors} errors, ${cell.non2xx} non-2xx` : ''
    const bare = contender.variant === 'bare'
    lines.push(
      row([
        `${bold(contender)}${failed}`,
        fixed(cell.requestsPerSecond, 0),
        cell.p50,
        cell.p99,
        `${fixed(cell.cpuPerRequest)}${cell.pacedRequestsPerSecond < 0.9 * pacedRate(results) ? ' †' : ''}`,
        bare ? '–' : fixed(cell.overhead ?? Number.NaN),
        fixed(cell.saturatedCpuPerRequest ?? Number.NaN),
        bare ? '–' : fixed(cell.saturatedOverhead ?? Number.NaN),
        `${fixed((cell.saturatedBusy ?? Number.NaN) * 100, 0)} %`,
      ]),
    )
  }
  return lines
}

function storeRow(contender: Contender, cell: Cell, store: 'redis' | 'postgres'): string {
  if (store === 'redis' && cell.redis !== undefined) {
    const { roundTrips, topLevel, commands, cpuMicros, saturatedCpuMicros, bytesIn } = cell.redis
    return row([
      bold(contender),
      'Redis',
      fixed(roundTrips, 2),
      fixed(topLevel, 2),
      fixed(commands, 2),
      fixed(cpuMicros),
      fixed(saturatedCpuMicros),
      perCore(saturatedCpuMicros),
      fixed(bytesIn, 0),
    ])
  }
  const postgres = cell.postgres
  if (postgres === undefined) return ''
  const { probeStatements, statements, cpuMicros, saturatedCpuMicros } = postgres
  return row([
    bold(contender),
    'Postgres',
    fixed(probeStatements, 2),
    fixed(probeStatements, 2),
    fixed(statements, 2),
    fixed(cpuMicros),
    fixed(saturatedCpuMicros),
    perCore(saturatedCpuMicros),
    '–',
  ])
}

function storeTable(results: RunResults, contenders: Contender[], scenario: Scenario): string[] {
  const rows: string[] = []
  for (const contender of contenders) {
    const cell = cellOf(results, contender.id, scenario)
    if (cell !== undefined) for (const store of storesOf(cell)) rows.push(storeRow(contender, cell, store))
  }
  if (rows.length === 0) return []
  return [
    row([
      'contender',
      'store',
      'RT/req',
      'top-level cmds/req',
      'cmds/req (fixed)',
      'store CPU µs/req (fixed)',
      'store CPU µs/req (sat.)',
      'req/s per store core (sat.)',
      'bytes to Redis/req',
    ]),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...rows,
    '',
  ]
}

/** Per scenario and framework, ruts against the peer on the same store: the figure a fleet is sized by. */
function capacitySection(results: RunResults): string[] {
  const out = [
    '## Store-tier capacity',
    '',
    'Requests per second one core of the store serves, 10⁶ ÷ the store CPU µs per request measured at saturation (the fixed-rate figure in brackets). "ratio" is ruts\' store CPU per request ÷ the peer\'s; the Redis target is at most 2× on counter, read and create.',
    '',
    row([
      'framework',
      'scenario',
      'store',
      'ruts req/s per core',
      'peer req/s per core',
      'ratio (sat.)',
      'ratio (fixed)',
    ]),
    row(['---', '---', '---', '---:', '---:', '---:', '---:']),
  ]
  const pairs = [
    ['ruts-redis', 'peer-redis', 'redis'],
    ['ruts-postgres', 'peer-postgres', 'postgres'],
    ['ruts-layered', 'peer-postgres', 'postgres'],
  ] as const
  for (const framework of FRAMEWORKS) {
    for (const scenario of scenariosOf(results)) {
      for (const [ruts, peer, store] of pairs) {
        const own = cellOf(results, `${framework}:${ruts}`, scenario)?.[store]
        const other = cellOf(results, `${framework}:${peer}`, scenario)?.[store]
        if (own === undefined || other === undefined) continue
        const label = ruts === 'ruts-layered' ? 'Postgres (under Layered)' : store === 'redis' ? 'Redis' : 'Postgres'
        out.push(
          row([
            framework,
            scenario,
            label,
            `${perCore(own.saturatedCpuMicros)} (${perCore(own.cpuMicros)})`,
            `${perCore(other.saturatedCpuMicros)} (${perCore(other.cpuMicros)})`,
            `${fixed(own.saturatedCpuMicros / other.saturatedCpuMicros, 2)}×`,
            `${fixed(own.cpuMicros / other.cpuMicros, 2)}×`,
          ]),
        )
      }
    }
  }
  out.push('')
  if (results.fleet !== undefined) {
    out.push(
      '### Projection check: one and two app processes (Node cluster) against one Redis',
      '',
      row([
        'contender',
        'scenario',
        'app processes',
        'req/s',
        'Redis CPU µs/req',
        'Redis busy',
        'projected req/s per Redis core',
      ]),
      row(['---', '---', '---:', '---:', '---:', '---:', '---:']),
    )
    for (const check of results.fleet) {
      for (const run of check.runs) {
        out.push(
          row([
            check.contender,
            check.scenario,
            run.processes,
            fixed(run.requestsPerSecond, 0),
            fixed(run.redisCpuMicros),
            `${fixed(run.redisBusy * 100, 0)} %`,
            perCore(run.redisCpuMicros),
          ]),
        )
      }
    }
    out.push('')
  }
  return out
}

const SCENARIO_TITLES: Record<Scenario, string> = {
  untouched: 'untouched — middleware present, handler ignores the session (cookie sent)',
  counter: 'counter — get one field + update it',
  read: 'read-only — get one 1 KB object',
  create: 'new-session storm — no cookie, one write',
  big: 'big session — counter handler on a session that also holds 100 fields × 1 KB',
}

const TARGET_TITLES: Record<Target, string> = {
  cpu: "Server CPU over the bare framework at most half the best peer's, at the fixed rate (same tier: memory vs memory, Redis vs the Redis peers, Postgres and Layered vs the Postgres peers)",
  'cpu-saturated': "Server CPU over the bare framework at most half the best peer's, at saturation",
  'round-trips': 'Redis round trips per request at the API minimum (untouched 0, read 1, read+write 2, create 1)',
  statements:
    'Postgres statements per request at the API minimum (PostgresStore as Redis round trips; LayeredStore: reads 0, each write 1)',
  'redis-cpu': `Redis CPU per request at most 2× connect-redis' (${REDIS_CPU_SCENARIOS.join(', ')}; at saturation and at the fixed rate)`,
  'postgres-cpu':
    "Postgres CPU per request at most 2× connect-pg-simple's (PostgresStore and LayeredStore, every scenario; at saturation and at the fixed rate)",
  'store-capacity': `Store-tier capacity: requests per second one store core serves (10⁶ ÷ store CPU µs per request, saturated) at least half the peer's on the same store, every scenario (below ${STORE_NOISE_MICROS} µs per request counts as met)`,
  'big-session': 'Big-session update within 2× of a one-field session (session CPU and throughput)',
}

function header(results: RunResults): string[] {
  const { machine: m, parameters: p } = results
  const budget = p.quick ? 5 : 20
  const minutes =
    results.durationSeconds === undefined
      ? ''
      : `, ${fixed(results.durationSeconds / 60, 1)} min after the build; budget ${budget} min`
  return [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench${p.quick ? ' -- --quick' : ''}\` from one run (${results.startedAt} → ${results.finishedAt}${minutes}). How to rerun and how to read these numbers: [docs/bench.md](../docs/bench.md).`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; Redis ${m.redis} and PostgreSQL ${m.postgres ?? 'not run'} (private, loopback, no persistence / fsync off); commit ${m.commit}`,
    `- Load: autocannon, ${p.connections} keep-alive connections, each with its own session cookie. Per cell ${p.rounds} round(s) of: ${p.warmupSeconds} s warm-up, ${p.measureSeconds} s as fast as possible (req/s, p50, p99, and the "sat." costs; req/s = requests ÷ the elapsed time autocannon reports), ${p.pacedSeconds ?? p.measureSeconds} s at a fixed offered rate (the "fixed" costs; autocannon \`overallRate: ${p.costRate}\`, which delivered a median ${fixed(pacedRate(results), 0)} req/s). Rounds interleave with the other contenders of the framework; the tables show the median round`,
    p.pinned
      ? '- Pinned with taskset: each server on core 1, the load generator, Redis and Postgres on core 0 ("core busy" = server CPU time ÷ wall time in the saturated window)'
      : '- Not pinned (fewer than 2 cores, taskset missing or `--no-pin`): servers, load generator and stores share every core',
    '- † = the contender could not sustain the fixed rate (below 90 % of the median delivered rate), so its "fixed" costs were measured saturated',
    `- Shared machine: other work on it inflates every number; 1-minute load average ${m.loadAverage[0].toFixed(1)} at the start, ${m.loadAverage[1].toFixed(1)} at the end. Compare within a table, not across runs`,
    `- Store round trips over ${p.probeRequests} sequential requests: Redis exchanges (\`total_reads_processed\`: a pipeline is one) and top-level commands (MONITOR: a script is one, each pipelined command too), Postgres statements (pg_stat_statements); "cmds/req" is INFO commandstats (commands inside scripts included) or statements over the fixed-rate window; store CPU is Redis' \`used_cpu_*\` or the CPU of every Postgres process`,
    '',
  ]
}

/** The whole RESULTS.md. */
export function renderMarkdown(results: RunResults): string {
  computeOverheads(results)
  const out = header(results)
  if (results.missing.length > 0) {
    out.push('**Not run:**', '')
    for (const missing of results.missing) out.push(`- \`${missing.subject}\`: ${missing.reason}`)
    out.push('')
  }
  for (const framework of FRAMEWORKS) {
    const contenders = results.contenders.filter((contender) => contender.framework === framework)
    if (!results.cells.some((cell) => cell.contender.startsWith(`${framework}:`))) continue
    out.push(`## ${framework}`, '')
    for (const scenario of scenariosOf(results)) {
      out.push(`### ${SCENARIO_TITLES[scenario]}`, '', ...appTable(results, contenders, scenario), '')
      out.push(...storeTable(results, contenders, scenario))
    }
  }
  out.push(...capacitySection(results))
  out.push('## Lost updates (20 concurrent writers on one session, each setting its own field)', '')
  out.push(row(['contender', 'fields that survived']), row(['---', '---:']))
  for (const contender of results.contenders) {
    const survivors = results.lostUpdate[contender.id]
    if (survivors !== undefined)
      out.push(
        row([
          `${contender.framework}: ${contender.label}`,
          typeof survivors === 'number' ? `${survivors} / 20` : survivors,
        ]),
      )
  }
  out.push('', '## Targets', '')
  const checks = evaluateTargets(results)
  for (const target of Object.keys(TARGET_TITLES) as Target[]) {
    const own = checks.filter((check) => check.target === target)
    const missed = own.filter((check) => !check.met)
    const verdict =
      own.length === 0 ? 'NOT EVALUATED' : missed.length === 0 ? 'MET' : `MISSED in ${missed.length} of ${own.length}`
    out.push(`### ${verdict} — ${TARGET_TITLES[target]}`, '')
    for (const check of own) out.push(`- ${check.met ? 'met' : '**missed**'}: ${check.subject} — ${check.detail}`)
    out.push('')
  }
  return `${out.join('\n')}\n`
}
