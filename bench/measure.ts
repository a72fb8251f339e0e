// One timed window, and the median of several: the machine is shared (load generator, server and
// Redis on 2 cores, plus whatever else runs), so each cell is measured in several rounds that are
// interleaved with the other contenders, and the median is reported.
import type { Scenario } from './apps/shared.js'
import type { ServerChild } from './child.js'
import type { Contender } from './contenders.js'
import { drive, type Jar } from './load.js'
import { type BenchRedis, diffSnapshots } from './redis.js'
import type { RunParameters, Sample } from './types.js'

/**
 * Warm up, then two windows. The saturating window gives throughput and latency. The costs (server
 * CPU, Redis CPU, commands and bytes per request) come from a second window at a fixed offered rate
 * that every contender can mostly sustain: at saturation the load generator, the server and Redis
 * fight over the cores, and CPU per request then depends on how much each event-loop turn batches,
 * which differs between a fast and a slow contender. At one fixed rate they are compared on equal
 * terms.
 */
export async function measureWindow(
  contender: Contender,
  scenario: Scenario,
  server: ServerChild,
  redis: BenchRedis,
  jars: Jar[] | undefined,
  parameters: RunParameters,
): Promise<Sample> {
  const path = `/${scenario}`
  const load = { connections: parameters.connections, jars }
  await drive(server.base, path, { ...load, seconds: parameters.warmupSeconds })
  const saturated = await drive(server.base, path, { ...load, seconds: parameters.measureSeconds })
  const cpuBefore = await server.cpuMicros()
  const redisBefore = await redis.snapshot()
  const paced = await drive(server.base, path, {
    ...load,
    seconds: parameters.measureSeconds,
    rate: parameters.costRate,
  })
  const cpuAfter = await server.cpuMicros()
  const redisDelta = diffSnapshots(await redis.snapshot(), redisBefore, redis.overhead)
  const perRequest = (value: number) => value / Math.max(1, paced.requests)
  const sample: Sample = {
    ...saturated,
    errors: saturated.errors + paced.errors,
    non2xx: saturated.non2xx + paced.non2xx,
    pacedRequestsPerSecond: paced.requestsPerSecond,
    cpuPerRequest: perRequest(cpuAfter - cpuBefore),
  }
  if (contender.redis) {
    sample.redis = {
      commands: perRequest(redisDelta.commands),
      cpuMicros: perRequest(redisDelta.cpuMicros),
      bytesIn: perRequest(redisDelta.inputBytes),
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
  }
  if (samples[0]?.redis !== undefined) {
    out.redis = {
      commands: of((s) => s.redis?.commands ?? 0),
      cpuMicros: of((s) => s.redis?.cpuMicros ?? 0),
      bytesIn: of((s) => s.redis?.bytesIn ?? 0),
    }
  }
  return out
}
