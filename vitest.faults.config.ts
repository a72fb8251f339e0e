import { defineConfig } from 'vitest/config'

// The fault-injection suite (`npm run test:faults`): each file starts its own topology, runs a
// mixed HTTP workload while it injects a fault, and checks the history. Files run one at a time:
// they kill, pause and fail over servers, and their timing must not fight each other for 2 cores.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: [],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
