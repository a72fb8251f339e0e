import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Fault injection runs on its own (`npm run test:faults`, vitest.faults.config.ts); the framework
    // apps are built and tested by `npm run test:frameworks` (vitest.frameworks.config.ts).
    exclude: ['test/faults/**', 'test/frameworks/**', 'node_modules/**', 'dist/**'],
    // Services (redis-server, a Redis Cluster, a fresh Postgres database) are started once per run
    // by these files and torn down after; each reports how to reach it through `inject()`.
    globalSetup: ['test/setup/redis.ts', 'test/setup/postgres.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is spent waiting on TTLs, timeouts and servers, not on CPU: run more files
    // at once than this 2-core machine has cores.
    poolOptions: { forks: { maxForks: 4, minForks: 1 } },
    // The same within a file: the store conformance suites are `describe.concurrent`, and their cases
    // mostly sleep through TTLs. At vitest's default of 5 at once, the Redis and Layered conformance
    // files took 69 s together; at 16, 29 s.
    maxConcurrency: 16,
  },
})
