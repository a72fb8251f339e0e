// RESULTS.md's Targets section (bench/targets.ts, bench/report.ts): every issue-17 target is listed
// as met or missed with its numbers, from one run's cells.
import { describe, expect, it } from 'vitest'
import type { Scenario } from '../../bench/apps/shared.js'
import { CONTENDERS } from '../../bench/contenders.js'
import { renderMarkdown } from '../../bench/report.js'
import { evaluateTargets } from '../../bench/targets.js'
import type { Cell, PostgresCost, RedisCost, RunResults } from '../../bench/types.js'

function cell(
  contender: string,
  scenario: Scenario,
  cpu: number,
  stores: { redis?: Partial<RedisCost>; postgres?: Partial<PostgresCost> } = {},
): Cell {
  const sample = {
    requests: 1000,
    requestsPerSecond: 1000,
    p50: 1,
    p99: 2,
    errors: 0,
    non2xx: 0,
    pacedRequestsPerSecond: 2000,
    cpuPerRequest: cpu,
    saturatedCpuPerRequest: cpu,
    saturatedBusy: 1,
  }
  const out: Cell = { ...sample, contender, scenario, samples: [sample] }
  if (stores.redis !== undefined) {
    out.redis = {
      roundTrips: 2,
      topLevel: 2,
      commands: 2,
      cpuMicros: 10,
      saturatedCpuMicros: 10,
      bytesIn: 100,
      ...stores.redis,
    }
  }
  if (stores.postgres !== undefined) {
    out.postgres = { probeStatements: 2, statements: 2, cpuMicros: 10, saturatedCpuMicros: 10, ...stores.postgres }
  }
  return out
}

function results(cells: Cell[]): RunResults {
  const ids = new Set(cells.map((one) => one.contender))
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    durationSeconds: 600,
    machine: {
      cpu: 'test',
      cores: 2,
      memoryGiB: 1,
      os: 'test',
      node: 'v20',
      redis: '7.0',
      postgres: '15',
      commit: 'test',
      loadAverage: [0, 0],
    },
    parameters: {
      quick: false,
      connections: 16,
      rounds: 1,
      warmupSeconds: 0.4,
      measureSeconds: 1,
      pacedSeconds: 1,
      costRate: 2000,
      probeRequests: 20,
      pinned: true,
    },
    contenders: CONTENDERS.filter((contender) => ids.has(contender.id)),
    missing: [],
    cells,
    lostUpdate: {},
  }
}

const run = () =>
  results([
    cell('fastify:bare', 'counter', 100),
    cell('fastify:bare', 'big', 100),
    cell('fastify:ruts-redis', 'counter', 110, { redis: { cpuMicros: 30, saturatedCpuMicros: 30 } }),
    cell('fastify:ruts-redis', 'big', 115, { redis: { cpuMicros: 30, saturatedCpuMicros: 30 } }),
    cell('fastify:peer-redis', 'counter', 160, { redis: { cpuMicros: 10, saturatedCpuMicros: 10 } }),
    cell('fastify:ruts-postgres', 'counter', 120, { postgres: { cpuMicros: 15, saturatedCpuMicros: 15 } }),
    cell('fastify:ruts-layered', 'counter', 130, {
      redis: {},
      postgres: { probeStatements: 3, cpuMicros: 40, saturatedCpuMicros: 40 },
    }),
    cell('fastify:peer-postgres', 'counter', 200, { postgres: { cpuMicros: 10, saturatedCpuMicros: 10 } }),
  ])

describe('bench targets', () => {
  it('lists every target with a verdict, and the run time against its budget', () => {
    const markdown = renderMarkdown(run())
    const targets = markdown.slice(markdown.indexOf('## Targets'))
    for (const title of [
      'at the fixed rate',
      'at saturation',
      'Redis round trips per request',
      'Postgres statements per request',
      "Redis CPU per request at most 2× connect-redis'",
      "Postgres CPU per request at most 2× connect-pg-simple's",
      'Store-tier capacity',
      'Big-session update within 2×',
    ]) {
      expect(targets).toMatch(new RegExp(`### (MET|MISSED in \\d+ of \\d+) — [^\\n]*${title.replace(/[()×]/g, '.')}`))
    }
    expect(markdown).toContain('10.0 min after the build; budget 20 min')
  })

  it('holds Postgres CPU and store capacity to 2× the peer, and Layered to one statement per write', () => {
    const checks = evaluateTargets(run())
    const find = (target: string, subject: string) =>
      checks.find((check) => check.target === target && check.subject.startsWith(subject))
    expect(find('postgres-cpu', 'fastify:ruts-postgres counter (saturated)')).toMatchObject({ met: true })
    expect(find('postgres-cpu', 'fastify:ruts-layered counter (fixed rate)')).toMatchObject({
      met: false,
      detail: '40.0 vs connect-pg-simple 10.0 µs per request (4.00×)',
    })
    expect(find('store-capacity', 'fastify:ruts-redis counter (one Redis core)')).toMatchObject({
      met: false,
      detail: 'ruts 33333 vs connect-redis 100000 req/s (30.0 vs 10.0 µs per request)',
    })
    expect(find('store-capacity', 'fastify:ruts-postgres counter (one Postgres core)')).toMatchObject({ met: true })
    expect(find('statements', 'fastify:ruts-layered counter (Postgres)')).toMatchObject({ met: false })
    expect(find('round-trips', 'fastify:ruts-layered counter (Redis)')).toMatchObject({ met: true })
    expect(find('redis-cpu', 'fastify:ruts-redis counter (saturated)')).toMatchObject({ met: false })
  })
})
