import type { Scenario } from './apps/shared.js'
import type { Contender } from './contenders.js'
import type { LoadResult } from './load.js'

/** Redis cost per request. */
export interface RedisCost {
  /** Top-level commands (scripts count once), from the sequential MONITOR probe. */
  roundTrips: number
  /** All commandstats calls, script-internal ones included, over the fixed-rate window. */
  commands: number
  cpuMicros: number
  bytesIn: number
}

/** One timed window of one contender × scenario: the saturated window's load figures, then the costs. */
export interface Sample extends LoadResult {
  /** Requests per second the server kept up with in the fixed-rate window (below the rate = saturated). */
  pacedRequestsPerSecond: number
  /** Server child CPU (user + system) per request in the fixed-rate window, µs. */
  cpuPerRequest: number
  redis?: Omit<RedisCost, 'roundTrips'>
}

/** One contender × scenario: the median of its rounds. */
export interface Cell extends Sample {
  contender: string
  scenario: Scenario
  samples: Sample[]
  /** cpuPerRequest minus the bare framework's in the same scenario; filled in by the report. */
  overhead?: number
  redis?: RedisCost
}

export interface RunParameters {
  quick: boolean
  connections: number
  rounds: number
  warmupSeconds: number
  measureSeconds: number
  /** Offered requests per second of the cost window. */
  costRate: number
  probeRequests: number
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
}
