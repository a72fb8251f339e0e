import { describe } from 'vitest'
import { missingRedisBinaries } from '../redis/server.js'

/**
 * `describe` for a scenario that starts its own redis-server processes; skipped with the reason
 * when the binaries are missing, except on CI, where that is a failure.
 *
 * @param name - the scenario
 * @param body - its tests
 */
export function describeWithRedis(name: string, body: () => void): void {
  const missing = missingRedisBinaries()
  if (missing === undefined) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') throw new Error(`fault tests cannot run on CI: ${missing}`)
  describe.skip(`${name} (skipped: ${missing})`, body)
}
