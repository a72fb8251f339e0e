// One timed round, and the median of several: the machine is shared (load generator, server and
// stores on 2 cores, plus whatever else runs), so each cell is measured in several rounds that are
// interleaved with the other contenders, and the median is reported.
import type { Scenario } from './apps/shared.js'
import type { ServerChild } from './child.js'
import type { Contender } from './contenders.js'
import { drive, type Jar, type LoadResult } from './load.js'
import { type BenchPostgres, diffPostgres, type PostgresSnapshot } from './postgres.js'
import { type BenchRedis, diffSnapshots, type RedisSnapshot } from './redis.js'
import type { RunParameters, Sample } from './types.js'

/** The stores the runner started (Postgres only when a selected contender needs it). */
export interface BenchStores {
  redis: BenchRedis
  postgres?: BenchPostgres | undefined
}

interface Readings {
  cpu: number
  at: number
  redis?: RedisSnapshot | undefined
  postgres?: PostgresSnapshot | undefined
}

/** The server's CPU and the counters of the stores `contender` uses, at one moment. */
async function read(contender: Contender, server: ServerChild, stores: BenchStores): Promise<Readings> {
  const uses = (store: 'redis' | 'postgres') => contender.stores.includes(store)
  return {
    cpu: await server.cpuMicros(),
    at: performance.now(),
    redis: uses('redis') ? await stores.redis.snapshot() : undefined,
    postgres: uses('postgres') ? await stores.postgres?.snapshot() : undefined,
  }
}

interface Window {
  load: LoadResult
  cpuPerRequest: number
  busy: number
  redis?: RedisSnapshot | undefined
  postgres?: ReturnType<typeof diffPostgres> | undefined
}

async function timed(
  contender: Contender,
  server: ServerChild,
  stores: BenchStores,
  drive: () => Promise<LoadResult>,
): Promise<Window> {
  const before = await read(contender, server, stores)
  const load = await drive()
  const after = await read(contender, server, stores)
  const requests = Math.max(1, load.requests)
  const cpu = after.cpu - before.cpu
  const window: Window = { load, cpuPerRequest: cpu / requests, busy: cpu / ((after.at - before.at) * 1000) }
  if (after.redis !== undefined && before.redis !== undefined) {
    window.redis = diffSnapshots(after.redis, before.redis, stores.redis.overhead)
  }
  if (after.postgres !== undefined && before.postgres !== undefined) {
    window.postgres = diffPostgres(after.postgres, before.postgres, stores.postgres?.overhead)
  }
  return window
}

/**
 * Warm up, then two windows. The saturating window (as fast as the server answers; the server
 * pinned to its own core when the runner could pin) gives throughput, latency and the CPU per
 * request at capacity. The fixed-rate window gives the same costs at one offered rate every
 * contender can mostly sustain, where a fast and a slow contender compare on equal terms (at
 * saturation CPU per request depends on how much each event-loop turn batches). Store costs are
 * read in both.
 */
export async function measureWindow(
  contender: Contender,
  scenario: Scenario,
  server: ServerChild,
  stores: BenchStores,
  jars: Jar[] | undefined,
  parameters: RunParameters,
): Promise<Sample> {
  const path = `/${scenario}`
  const load = { connections: parameters.connections, jars }
  await drive(server.base, path, { ...load, seconds: parameters.warmupSeconds })
  const saturated = await timed(contender, server, stores, () =>
    drive(server.base, path, { ...load, seconds: parameters.measureSeconds }),
  )
  const paced = await timed(contender, server, stores, () =>
    drive(server.base, path, {
      ...load,
      seconds: parameters.pacedSeconds ?? parameters.measureSeconds,
      rate: parameters.costRate,
    }),
  )
  const perPaced = (value: number) => value / Math.max(1, paced.load.requests)
  const perSaturated = (value: number) => value / Math.max(1, saturated.load.requests)
  const sample: Sample = {
    ...saturated.load,
    errors: saturated.load.errors + paced.load.errors,
    non2xx: saturated.load.non2xx + paced.load.non2xx,
    pacedRequestsPerSecond: paced.load.requestsPerSecond,
    cpuPerRequest: paced.cpuPerRequest,
    saturatedCpuPerRequest: saturated.cpuPerRequest,
    saturatedBusy: saturated.busy,
  }
  if (paced.redis !== undefined && saturated.redis !== undefined) {
    sample.redis = {
      commands: perPaced(paced.redis.commands),
      cpuMicros: perPaced(paced.redis.cpuMicros),
      saturatedCpuMicros: perSaturated(saturated.redis.cpuMicros),
      bytesIn: perPaced(paced.redis.inputBytes),
    }
  }
  if (paced.postgres !== undefined && saturated.postgres !== undefined) {
    sample.postgres = {
      statements: perPaced(paced.postgres.statements),
      cpuMicros: perPaced(paced.postgres.cpuMicros),
      saturatedCpuMicros: perSaturated(saturated.postgres.cpuMicros),
    }
  }
  return sample
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/** The per-metric median of a cell's rounds (errors are summed: any error is worth seeing). */
export function medianSample(samples: Sample[]): Sample {
  const of = (pick: (sample: Sample) => number) => median(samples.map(pick))
  const out: Sample = {
    requests: of((s) => s.requests),
    requestsPerSecond: of((s) => s.requestsPerSecond),
    p50: of((s) => s.p50),
    p99: of((s) => s.p99),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    non2xx: samples.reduce((sum, s) => sum + s.non2xx, 0),
    pacedRequestsPerSecond: of((s) => s.pacedRequestsPerSecond),
    cpuPerRequest: of((s) => s.cpuPerRequest),
    saturatedCpuPerRequest: of((s) => s.saturatedCpuPerRequest),
    saturatedBusy: of((s) => s.saturatedBusy),
  }
  if (samples[0]?.redis !== undefined) {
    out.redis = {
      commands: of((s) => s.redis?.commands ?? 0),
      cpuMicros: of((s) => s.redis?.cpuMicros ?? 0),
      saturatedCpuMicros: of((s) => s.redis?.saturatedCpuMicros ?? 0),
      bytesIn: of((s) => s.redis?.bytesIn ?? 0),
    }
  }
  if (samples[0]?.postgres !== undefined) {
    out.postgres = {
      statements: of((s) => s.postgres?.statements ?? 0),
      cpuMicros: of((s) => s.postgres?.cpuMicros ?? 0),
      saturatedCpuMicros: of((s) => s.postgres?.saturatedCpuMicros ?? 0),
    }
  }
  return out
}
