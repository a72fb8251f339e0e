// The store-tier projection check: "one Redis core serves 10⁶ ÷ (Redis µs per request) requests per
// second" assumes Redis' cost per request does not change when more app processes share it. This
// runs one contender as a Node cluster of one worker and of two workers against the same Redis, at
// saturation, rounds interleaved, and reports Redis CPU per request for both.
import type { Scenario } from './apps/shared.js'
import { type ServerChild, startServer } from './child.js'
import type { Contender } from './contenders.js'
import { drive, seedJars } from './load.js'
import type { BenchStores } from './measure.js'
import { diffSnapshots } from './redis.js'
import type { FleetCheck, RunParameters } from './types.js'

const PROCESSES = [1, 2] as const

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/**
 * Run the check for each contender on `scenario`.
 *
 * @returns per contender, the median over rounds for one and for two app processes
 */
export async function fleetCheck(
  contenders: Contender[],
  scenario: Scenario,
  stores: BenchStores,
  parameters: RunParameters,
): Promise<FleetCheck[]> {
  const checks: FleetCheck[] = []
  for (const contender of contenders) {
    const servers: ServerChild[] = []
    try {
      for (const workers of PROCESSES) {
        servers.push(await startServer(contender, { redisPort: stores.redis.port, workers }))
      }
      // Twice the connections of a cell, so two processes have as many each as one had alone.
      const connections = parameters.connections * 2
      const jars = await Promise.all(servers.map((server) => seedJars(server.base, scenario, connections)))
      const rounds = PROCESSES.map(() => [] as { rps: number; cpu: number; busy: number }[])
      for (let round = 0; round < parameters.rounds; round++) {
        for (const [i, server] of servers.entries()) {
          const load = { connections, jars: jars[i], seconds: parameters.warmupSeconds }
          await drive(server.base, `/${scenario}`, load)
          const before = await stores.redis.snapshot()
          const started = performance.now()
          const result = await drive(server.base, `/${scenario}`, { ...load, seconds: parameters.measureSeconds * 2 })
          const wall = (performance.now() - started) * 1000
          const cost = diffSnapshots(await stores.redis.snapshot(), before, stores.redis.overhead)
          rounds[i]?.push({
            rps: result.requestsPerSecond,
            cpu: cost.cpuMicros / Math.max(1, result.requests),
            busy: cost.cpuMicros / wall,
          })
        }
      }
      checks.push({
        contender: contender.id,
        scenario,
        runs: PROCESSES.map((processes, i) => ({
          processes,
          requestsPerSecond: median((rounds[i] ?? []).map((r) => r.rps)),
          redisCpuMicros: median((rounds[i] ?? []).map((r) => r.cpu)),
          redisBusy: median((rounds[i] ?? []).map((r) => r.busy)),
        })),
      })
    } finally {
      for (const server of servers) await server.stop()
    }
  }
  return checks
}
