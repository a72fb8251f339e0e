import type { Scenario } from './apps/shared.js'
import type { Contender } from './contenders.js'
import type { LoadResult } from './load.js'

/** Redis cost per request. */
export interface RedisCost {
  /** Exchanges with Redis (a pipeline counts once), from a sequential probe (total_reads_processed). */
  roundTrips: number
  /** Top-level commands (a script counts once, each pipelined command too), from a sequential MONITOR probe. */
  topLevel: number
  /** All commandstats calls, script-internal ones included, over the fixed-rate window. */
  commands: number
  /** Redis CPU per request over the fixed-rate window. */
  cpuMicros: number
  /** Redis CPU per request over the saturated window. */
  saturatedCpuMicros: number
  bytesIn: number
}

/** Postgres cost per request. */
export interface PostgresCost {
  /** Statements per request in the sequential probe (pg_stat_statements). */
  probeStatements: number
  /** Statements per request over the fixed-rate window. */
  statements: number
  /** Server CPU (all Postgres processes) per request over the fixed-rate window. */
  cpuMicros: number
  /** The same over the saturated window. */
  saturatedCpuMicros: number
}

/** One timed round of one contender × scenario: the saturated window's load figures, then the costs. */
export interface Sample extends LoadResult {
  /** Requests per second the server kept up with in the fixed-rate window (below the rate = saturated). */
  pacedRequestsPerSecond: number
  /** Server child CPU (user + system) per request in the fixed-rate window, µs. */
  cpuPerRequest: number
  /** Server child CPU per request in the saturated window, µs. */
  saturatedCpuPerRequest: number
  /** Server CPU time ÷ wall time in the saturated window: 1.0 = the server's core was busy throughout. */
  saturatedBusy: number
  redis?: Omit<RedisCost, 'roundTrips' | 'topLevel'>
  postgres?: Omit<PostgresCost, 'probeStatements'>
}

/** One contender × scenario: the median of its rounds. */
export interface Cell extends Sample {
  contender: string
  scenario: Scenario
  samples: Sample[]
  /** cpuPerRequest minus the same framework's bare one (fixed rate); filled in by the report. */
  overhead?: number
  /** saturatedCpuPerRequest minus the bare one; filled in by the report. */
  saturatedOverhead?: number
  redis?: RedisCost
  postgres?: PostgresCost
}

export interface RunParameters {
  quick: boolean
  connections: number
  rounds: number
  warmupSeconds: number
  /** The saturated window. */
  measureSeconds: number
  /** The fixed-rate window: whole seconds (autocannon's rate limiter refills once a second); runs before it used measureSeconds. */
  pacedSeconds?: number
  /** Offered requests per second of the cost window. */
  costRate: number
  probeRequests: number
  /** Server children pinned to one core, load generator and stores to the other (taskset). */
  pinned: boolean
}

/** The store-tier projection check: one app process against two (Node cluster) on one Redis. */
export interface FleetCheck {
  contender: string
  scenario: Scenario
  /** App processes → requests per second and Redis CPU per request at saturation. */
  runs: { processes: number; requestsPerSecond: number; redisCpuMicros: number; redisBusy: number }[]
}

export interface RunResults {
  startedAt: string
  finishedAt: string
  machine: {
    cpu: string
    cores: number
    memoryGiB: number
    os: string
    node: string
    redis: string
    postgres: string
    commit: string
    /** 1-minute load average at the start and the end: other work on the machine skews the numbers. */
    loadAverage: [number, number]
  }
  parameters: RunParameters
  contenders: Contender[]
  /** Contenders or cells that could not run, with the reason (e.g. a cookie store and a 100 KB session). */
  missing: { subject: string; reason: string }[]
  cells: Cell[]
  /** Survivors of the lost-update check per contender (out of 20), or why it could not run. */
  lostUpdate: Record<string, number | string>
  fleet?: FleetCheck[]
  /** Seconds the whole run took. */
  durationSeconds?: number
}
