// The targets RESULTS.md reports as met or missed, computed from one run.
import type { Scenario } from './apps/shared.js'
import type { Contender, StoreKind } from './contenders.js'
import type { Cell, RunResults, Sample } from './types.js'

/** The fewest Redis round trips the session API allows per request, by scenario. */
export const MIN_ROUND_TRIPS: Record<Scenario, number> = { untouched: 0, read: 1, counter: 2, big: 2, create: 1 }
/**
 * The fewest Postgres statements per request: the same for PostgresStore; a LayeredStore reads from
 * Redis (a hot hit costs Postgres nothing) and writes through to Postgres once per write.
 */
export const MIN_STATEMENTS: Record<'postgres' | 'layered', Record<Scenario, number>> = {
  postgres: MIN_ROUND_TRIPS,
  layered: { untouched: 0, read: 0, counter: 1, big: 1, create: 1 },
}
/** Scenarios whose Redis CPU per request is held to at most 2× connect-redis'. */
export const REDIS_CPU_SCENARIOS: Scenario[] = ['counter', 'read', 'create']
/**
 * Differences below this many µs of CPU per request are within the run-to-run noise of the
 * cpuUsage counters on this kind of machine; a ruts overhead below it counts as met.
 */
export const NOISE_MICROS = 2

/**
 * Store CPU per request below this many µs counts as nothing: what a window's own INFO and /proc
 * readings cost, spread over its requests, is of that order (ruts' untouched cells, which make no
 * store call, read 0.1–1 µs).
 */
export const STORE_NOISE_MICROS = 1

export type Target =
  | 'cpu'
  | 'cpu-saturated'
  | 'round-trips'
  | 'statements'
  | 'redis-cpu'
  | 'postgres-cpu'
  | 'store-capacity'
  | 'big-session'

export interface TargetCheck {
  target: Target
  subject: string
  met: boolean
  detail: string
}

export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–')

export function cellOf(results: RunResults, contender: string, scenario: Scenario): Cell | undefined {
  return results.cells.find((cell) => cell.contender === contender && cell.scenario === scenario)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

export function scenariosOf(results: RunResults): Scenario[] {
  return [...new Set(results.cells.map((cell) => cell.scenario))]
}

/** Round by round difference from the baseline (a slow spell of the machine hits both sides), then the median. */
function overheadOf(cell: Cell, baseline: Cell, pick: (sample: Sample) => number): number {
  const rounds = Math.min(cell.samples.length, baseline.samples.length)
  if (rounds === 0) return pick(cell) - pick(baseline)
  const differences: number[] = []
  for (let i = 0; i < rounds; i++) {
    const own = cell.samples[i]
    const base = baseline.samples[i]
    if (own !== undefined && base !== undefined) differences.push(pick(own) - pick(base))
  }
  return median(differences)
}

/**
 * Fill `overhead` and `saturatedOverhead`: the contender's CPU per request minus the same
 * framework's bare CPU per request, at the fixed rate and at saturation.
 */
export function computeOverheads(results: RunResults): void {
  for (const cell of results.cells) {
    const framework = cell.contender.split(':')[0]
    const baseline = cellOf(results, `${framework}:bare`, cell.scenario)
    if (baseline === undefined) continue
    cell.overhead = overheadOf(cell, baseline, (sample) => sample.cpuPerRequest)
    cell.saturatedOverhead = overheadOf(cell, baseline, (sample) => sample.saturatedCpuPerRequest ?? Number.NaN)
  }
}

function peersOf(results: RunResults, contender: Contender): Contender[] {
  return results.contenders.filter(
    (peer) => peer.framework === contender.framework && !peer.ruts && peer.tier === contender.tier,
  )
}

/** "At most half the best peer's overhead" for one ruts cell at one load point. */
function cpuCheck(
  results: RunResults,
  contender: Contender,
  own: Cell,
  pick: (cell: Cell) => number | undefined,
  target: 'cpu' | 'cpu-saturated',
): TargetCheck | undefined {
  const ownOverhead = pick(own)
  if (ownOverhead === undefined || !Number.isFinite(ownOverhead)) return undefined
  const peers = peersOf(results, contender)
    .map((peer) => cellOf(results, peer.id, own.scenario))
    .filter((cell): cell is Cell => cell !== undefined && Number.isFinite(pick(cell) ?? Number.NaN))
    .sort((a, b) => (pick(a) ?? 0) - (pick(b) ?? 0))
  const best = peers[0]
  const bestOverhead = best === undefined ? undefined : pick(best)
  if (best === undefined || bestOverhead === undefined) return undefined
  return {
    target,
    subject: `${contender.id} ${own.scenario}`,
    met: ownOverhead <= bestOverhead / 2 || ownOverhead <= NOISE_MICROS,
    detail: `${fixed(ownOverhead)} µs over bare vs best peer ${best.contender} ${fixed(bestOverhead)} µs (limit ${fixed(Math.max(bestOverhead / 2, NOISE_MICROS))})`,
  }
}

function storeChecks(contender: Contender, own: Cell): TargetCheck[] {
  const checks: TargetCheck[] = []
  const subject = `${contender.id} ${own.scenario}`
  if (own.redis !== undefined) {
    const minimum = MIN_ROUND_TRIPS[own.scenario]
    checks.push({
      target: 'round-trips',
      subject: `${subject} (Redis)`,
      met: own.redis.roundTrips <= minimum,
      detail: `${fixed(own.redis.roundTrips, 2)} per request (minimum ${minimum})`,
    })
  }
  if (own.postgres !== undefined) {
    const minimum = MIN_STATEMENTS[contender.variant === 'ruts-layered' ? 'layered' : 'postgres'][own.scenario]
    checks.push({
      target: 'statements',
      subject: `${subject} (Postgres)`,
      met: own.postgres.probeStatements <= minimum,
      detail: `${fixed(own.postgres.probeStatements, 2)} statements per request (minimum ${minimum})`,
    })
  }
  return checks
}

/** Redis CPU per request of ruts + RedisStore vs the connect-redis peer of the same framework, both windows. */
function redisCpuChecks(results: RunResults, contender: Contender, own: Cell): TargetCheck[] {
  if (contender.variant !== 'ruts-redis' || !REDIS_CPU_SCENARIOS.includes(own.scenario)) return []
  const peer = cellOf(results, `${contender.framework}:peer-redis`, own.scenario)
  if (own.redis === undefined || peer?.redis === undefined) return []
  const ownRedis = own.redis
  const peerRedis = peer.redis
  return (['saturatedCpuMicros', 'cpuMicros'] as const).map((window) => {
    const ratio = ownRedis[window] / peerRedis[window]
    return {
      target: 'redis-cpu' as const,
      subject: `${contender.id} ${own.scenario} (${window === 'cpuMicros' ? 'fixed rate' : 'saturated'})`,
      met: ratio <= 2,
      detail: `${fixed(ownRedis[window])} vs connect-redis ${fixed(peerRedis[window])} µs per request (${fixed(ratio, 2)}×)`,
    }
  })
}

/**
 * Postgres CPU per request of ruts + PostgresStore and ruts + LayeredStore vs connect-pg-simple on the
 * same framework (the Redis rule: at most 2×), at saturation and at the fixed rate, every scenario.
 */
function postgresCpuChecks(results: RunResults, contender: Contender, own: Cell): TargetCheck[] {
  if (contender.variant !== 'ruts-postgres' && contender.variant !== 'ruts-layered') return []
  const peer = cellOf(results, `${contender.framework}:peer-postgres`, own.scenario)
  if (own.postgres === undefined || peer?.postgres === undefined) return []
  const ownPostgres = own.postgres
  const peerPostgres = peer.postgres
  return (['saturatedCpuMicros', 'cpuMicros'] as const).map((window) => {
    const ratio = ownPostgres[window] / peerPostgres[window]
    return {
      target: 'postgres-cpu' as const,
      subject: `${contender.id} ${own.scenario} (${window === 'cpuMicros' ? 'fixed rate' : 'saturated'})`,
      met: ratio <= 2 || ownPostgres[window] <= STORE_NOISE_MICROS,
      detail: `${fixed(ownPostgres[window])} vs connect-pg-simple ${fixed(peerPostgres[window])} µs per request (${fixed(ratio, 2)}×)`,
    }
  })
}

/** Requests per second one core of the store serves at `micros` per request. */
export const perCore = (micros: number) => (micros > 0 ? fixed(1e6 / micros, 0) : '–')

/**
 * Store-tier capacity, every scenario: the requests one store core serves for ruts (10⁶ ÷ store CPU
 * µs per request at saturation) at least half the peer's on the same store — one Redis core against
 * connect-redis, one Postgres core against connect-pg-simple (LayeredStore's Postgres too: its peers
 * are the Postgres ones, which have no Redis to hold its hot tier against).
 */
function capacityChecks(results: RunResults, contender: Contender, own: Cell): TargetCheck[] {
  const pairs: [StoreKind, string][] =
    contender.variant === 'ruts-redis'
      ? [['redis', 'peer-redis']]
      : contender.variant === 'ruts-postgres' || contender.variant === 'ruts-layered'
        ? [['postgres', 'peer-postgres']]
        : []
  const checks: TargetCheck[] = []
  for (const [store, peerVariant] of pairs) {
    const mine = own[store]?.saturatedCpuMicros
    const theirs = cellOf(results, `${contender.framework}:${peerVariant}`, own.scenario)?.[store]?.saturatedCpuMicros
    if (mine === undefined || theirs === undefined) continue
    const name = store === 'redis' ? 'Redis' : 'Postgres'
    checks.push({
      target: 'store-capacity',
      subject: `${contender.id} ${own.scenario} (one ${name} core)`,
      met: mine <= 2 * theirs || mine <= STORE_NOISE_MICROS,
      detail: `ruts ${perCore(mine)} vs ${peerVariant === 'peer-redis' ? 'connect-redis' : 'connect-pg-simple'} ${perCore(theirs)} req/s (${fixed(mine)} vs ${fixed(theirs)} µs per request)`,
    })
  }
  return checks
}

function bigSessionCheck(results: RunResults, contender: Contender): TargetCheck | undefined {
  const big = cellOf(results, contender.id, 'big')
  const counter = cellOf(results, contender.id, 'counter')
  if (big?.overhead === undefined || counter?.overhead === undefined) return undefined
  const cpuRatio = Math.max(big.overhead, NOISE_MICROS) / Math.max(counter.overhead, NOISE_MICROS)
  const speedRatio = counter.requestsPerSecond / Math.max(1, big.requestsPerSecond)
  const bytes =
    big.redis === undefined || counter.redis === undefined
      ? ''
      : `, bytes to Redis ${fixed(big.redis.bytesIn, 0)} vs ${fixed(counter.redis.bytesIn, 0)} per request`
  return {
    target: 'big-session',
    subject: contender.id,
    met: cpuRatio <= 2 && speedRatio <= 2,
    detail: `session CPU ${fixed(big.overhead)} vs ${fixed(counter.overhead)} µs (${fixed(cpuRatio, 2)}×), throughput ${fixed(big.requestsPerSecond, 0)} vs ${fixed(counter.requestsPerSecond, 0)} req/s (${fixed(speedRatio, 2)}× slower)${bytes}`,
  }
}

/** Every target, for every framework × scenario × ruts variant that ran. */
export function evaluateTargets(results: RunResults): TargetCheck[] {
  const checks: TargetCheck[] = []
  for (const contender of results.contenders.filter((candidate) => candidate.ruts)) {
    for (const scenario of scenariosOf(results)) {
      const own = cellOf(results, contender.id, scenario)
      if (own === undefined) continue
      for (const check of [
        cpuCheck(results, contender, own, (cell) => cell.overhead, 'cpu'),
        cpuCheck(results, contender, own, (cell) => cell.saturatedOverhead, 'cpu-saturated'),
        ...storeChecks(contender, own),
        ...redisCpuChecks(results, contender, own),
        ...postgresCpuChecks(results, contender, own),
        ...capacityChecks(results, contender, own),
      ]) {
        if (check !== undefined) checks.push(check)
      }
    }
    const big = bigSessionCheck(results, contender)
    if (big !== undefined) checks.push(big)
  }
  return checks
}

/** Which stores a cell reports, in table order. */
export function storesOf(cell: Cell): StoreKind[] {
  return [
    ...(cell.redis === undefined ? [] : ['redis' as const]),
    ...(cell.postgres === undefined ? [] : ['postgres' as const]),
  ]
}
