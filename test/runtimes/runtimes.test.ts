import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { missingRuntime, type Runtime, runtimeHarness } from '../helpers/runtime-harness.js'

// The adapter behaviour suite through the Web and Hono adapters with Bun.serve and Deno.serve as the
// server: the client (and every assertion) stays in this Node process.
for (const runtime of ['bun', 'deno'] as Runtime[]) {
  for (const adapter of ['web', 'hono'] as const) {
    describeAdapterBehaviour({
      name: `${adapter === 'web' ? 'Web' : 'Hono 4'} on ${runtime === 'bun' ? 'Bun.serve' : 'Deno.serve'} on MemoryStore`,
      start: runtimeHarness(runtime, adapter),
      skip: missingRuntime(runtime),
    })
  }
}
