// Turns one run into bench/RESULTS.md: the tables, the lost-update check and the targets.
import type { Scenario } from './apps/shared.js'
import type { Contender, Framework } from './contenders.js'
import type { Cell, RunResults } from './types.js'

/** The fewest top-level Redis commands the session API allows per request, by scenario. */
export const MIN_ROUND_TRIPS: Record<Scenario, number> = { untouched: 0, read: 1, counter: 2, big: 2, create: 1 }
/**
 * Differences below this many µs of CPU per request are within the run-to-run noise of the
 * cpuUsage counters on this kind of machine; a ruts overhead below it counts as met.
 */
export const NOISE_MICROS = 2

export interface TargetCheck {
  target: 'cpu' | 'round-trips' | 'big-session'
  subject: string
  met: boolean
  detail: string
}

const FRAMEWORKS: Framework[] = ['express', 'fastify', 'hono']
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–')

function cellOf(results: RunResults, contender: string, scenario: Scenario): Cell | undefined {
  return results.cells.find((cell) => cell.contender === contender && cell.scenario === scenario)
}

/**
 * Fill `overhead` = contender CPU per request − the same framework's bare CPU per request, taken
 * round by round (round i of every contender of a framework ran back to back, so a slow spell of
 * the shared machine hits both sides of one difference) and then the median over rounds.
 */
export function computeOverheads(results: RunResults): void {
  for (const cell of results.cells) {
    const framework = cell.contender.split(':')[0]
    const baseline = cellOf(results, `${framework}:bare`, cell.scenario)
    if (baseline === undefined) continue
    const rounds = Math.min(cell.samples.length, baseline.samples.length)
    const differences: number[] = []
    for (let i = 0; i < rounds; i++) {
      differences.push((cell.samples[i]?.cpuPerRequest ?? 0) - (baseline.samples[i]?.cpuPerRequest ?? 0))
    }
    cell.overhead = rounds === 0 ? cell.cpuPerRequest - baseline.cpuPerRequest : median(differences)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

function scenariosOf(results: RunResults): Scenario[] {
  return [...new Set(results.cells.map((cell) => cell.scenario))]
}

/** Every target, for every framework × scenario × ruts variant that ran. */
export function evaluateTargets(results: RunResults): TargetCheck[] {
  const checks: TargetCheck[] = []
  const ruts = results.contenders.filter((contender) => contender.ruts)
  for (const contender of ruts) {
    const peers = results.contenders.filter(
      (peer) => peer.framework === contender.framework && !peer.ruts && peer.tier === contender.tier,
    )
    for (const scenario of scenariosOf(results)) {
      const own = cellOf(results, contender.id, scenario)
      if (own?.overhead === undefined) continue
      const peerCells = peers
        .map((peer) => cellOf(results, peer.id, scenario))
        .filter((cell) => cell?.overhead !== undefined)
      const best = peerCells.sort((a, b) => (a?.overhead ?? 0) - (b?.overhead ?? 0))[0]
      if (best?.overhead !== undefined) {
        const met = own.overhead <= best.overhead / 2 || own.overhead <= NOISE_MICROS
        checks.push({
          target: 'cpu',
          subject: `${contender.id} ${scenario}`,
          met,
          detail: `${fixed(own.overhead)} µs over baseline vs best peer ${best.contender} ${fixed(best.overhead)} µs (limit ${fixed(Math.max(best.overhead / 2, NOISE_MICROS))})`,
        })
      }
      if (own.redis !== undefined) {
        const minimum = MIN_ROUND_TRIPS[scenario]
        checks.push({
          target: 'round-trips',
          subject: `${contender.id} ${scenario}`,
          met: own.redis.roundTrips <= minimum,
          detail: `${fixed(own.redis.roundTrips, 2)} per request (minimum ${minimum})`,
        })
      }
    }
    const big = cellOf(results, contender.id, 'big')
    const counter = cellOf(results, contender.id, 'counter')
    if (big?.overhead !== undefined && counter?.overhead !== undefined) {
      const cpuRatio = Math.max(big.overhead, NOISE_MICROS) / Math.max(counter.overhead, NOISE_MICROS)
      const speedRatio = counter.requestsPerSecond / Math.max(1, big.requestsPerSecond)
      checks.push({
        target: 'big-session',
        subject: contender.id,
        met: cpuRatio <= 2 && speedRatio <= 2,
        detail: `session CPU ${fixed(big.overhead)} vs ${fixed(counter.overhead)} µs (${fixed(cpuRatio, 2)}×), throughput ${fixed(big.requestsPerSecond, 0)} vs ${fixed(counter.requestsPerSecond, 0)} req/s (${fixed(speedRatio, 2)}× slower)${redisBytes(big, counter)}`,
      })
    }
  }
  return checks
}

/** The median rate the fixed-rate windows actually delivered. */
function pacedRate(results: RunResults): number {
  const rates = results.cells.map((cell) => cell.pacedRequestsPerSecond).sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)] ?? Number.NaN
}

function redisBytes(big: Cell, counter: Cell): string {
  if (big.redis === undefined || counter.redis === undefined) return ''
  return `, bytes to Redis ${fixed(big.redis.bytesIn, 0)} vs ${fixed(counter.redis.bytesIn, 0)} per request`
}

function row(values: (string | number)[]): string {
  return `| ${values.join(' | ')} |`
}

function scenarioTable(results: RunResults, contenders: Contender[], scenario: Scenario): string[] {
  const lines = [
    row([
      'contender',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'over bare µs/req',
      'Redis RT/req',
      'Redis cmds/req',
      'Redis CPU µs/req',
      'bytes to Redis/req',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ]
  for (const contender of contenders) {
    const cell = cellOf(results, contender.id, scenario)
    if (cell === undefined) continue
    const redis = cell.redis
    const failed = cell.errors + cell.non2xx > 0 ? ` ⚠ ${cell.errors} errors, ${cell.non2xx} non-2xx` : ''
    lines.push(
      row([
        `${contender.ruts ? '**' : ''}${contender.label}${contender.ruts ? '**' : ''}${failed}`,
        fixed(cell.requestsPerSecond, 0),
        cell.p50,
        cell.p99,
        `${fixed(cell.cpuPerRequest)}${cell.pacedRequestsPerSecond < 0.9 * pacedRate(results) ? ' †' : ''}`,
        contender.variant === 'bare' ? '–' : fixed(cell.overhead ?? Number.NaN),
        redis === undefined ? '–' : fixed(redis.roundTrips, 2),
        redis === undefined ? '–' : fixed(redis.commands, 2),
        redis === undefined ? '–' : fixed(redis.cpuMicros),
        redis === undefined ? '–' : fixed(redis.bytesIn, 0),
      ]),
    )
  }
  return lines
}

const SCENARIO_TITLES: Record<Scenario, string> = {
  untouched: 'untouched — middleware present, handler ignores the session (cookie sent)',
  counter: 'counter — get one field + update it',
  read: 'read-only — get one 1 KB object',
  create: 'new-session storm — no cookie, one write',
  big: 'big session — counter handler on a session that also holds 100 fields × 1 KB',
}

/** The whole RESULTS.md. */
export function renderMarkdown(results: RunResults): string {
  computeOverheads(results)
  const { machine: m, parameters: p } = results
  const out = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench${p.quick ? ' -- --quick' : ''}\` from one run (${results.startedAt} → ${results.finishedAt}). How to rerun and how to read these numbers: [docs/bench.md](../docs/bench.md).`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; Redis ${m.redis} (private, loopback, no persistence); commit ${m.commit}`,
    `- Load: autocannon, ${p.connections} keep-alive connections, each with its own session cookie. Per cell ${p.rounds} round(s) of: ${p.warmupSeconds} s warm-up, ${p.measureSeconds} s as fast as possible (req/s, p50, p99), ${p.measureSeconds} s at a fixed offered rate (CPU and Redis costs per request; autocannon \`overallRate: ${p.costRate}\`, which delivered a median ${fixed(pacedRate(results), 0)} req/s). Rounds interleave with the other contenders of the framework; the tables show the median round`,
    '- † = the contender could not sustain the fixed rate (below 90 % of the median delivered rate), so its costs were measured saturated',
    `- Shared machine: load generator, servers and Redis run on the same ${m.cores} cores; 1-minute load average ${m.loadAverage[0].toFixed(1)} at the start, ${m.loadAverage[1].toFixed(1)} at the end (other work on the machine inflates every number; compare within a table, not across runs)`,
    `- Redis round trips: top-level commands seen by MONITOR over ${p.probeRequests} sequential requests (a script counts once); the other Redis columns are INFO diffs over the fixed-rate window ("cmds" includes commands run inside scripts)`,
    '',
  ]
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
      out.push(`### ${SCENARIO_TITLES[scenario]}`, '', ...scenarioTable(results, contenders, scenario), '')
    }
  }
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
  const titles = {
    cpu: "Server CPU over the bare framework at most half the best peer's (same tier: memory vs memory, Redis vs the store peers)",
    'round-trips': 'Redis round trips per request at the API minimum (untouched 0, read 1, read+write 2, create 1)',
    'big-session': 'Big-session update within 2× of a one-field session (session CPU and throughput)',
  }
  for (const target of ['cpu', 'round-trips', 'big-session'] as const) {
    const own = checks.filter((check) => check.target === target)
    const missed = own.filter((check) => !check.met)
    out.push(
      `### ${missed.length === 0 && own.length > 0 ? 'MET' : own.length === 0 ? 'NOT EVALUATED' : 'MISSED'} — ${titles[target]}`,
      '',
    )
    for (const check of own) out.push(`- ${check.met ? 'met' : '**missed**'}: ${check.subject} — ${check.detail}`)
    out.push('')
  }
  return `${out.join('\n')}\n`
}
