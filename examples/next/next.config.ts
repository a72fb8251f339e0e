import type { NextConfig } from 'next'

const config: NextConfig = {
  // The repo's tests build this example with RUTS_SUITE=1, which adds the adapter behaviour suite's
  // routes (`*.suite.ts`, see suite/README.md). A normal build leaves them out.
  pageExtensions: process.env.RUTS_SUITE === '1' ? ['tsx', 'ts', 'suite.tsx', 'suite.ts'] : ['tsx', 'ts'],
  // This example lives inside the ruts repository: build it as its own project.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
}

export default config
