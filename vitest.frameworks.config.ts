import { defineConfig } from 'vitest/config'

// `npm run test:frameworks`: the adapters on the frameworks' real servers, against the example apps
// that scripts/test-frameworks.sh installed and built. Kept out of `npm test`, which needs no build
// of Next.js, SvelteKit or Nuxt.
export default defineConfig({
  test: {
    include: ['test/frameworks/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
