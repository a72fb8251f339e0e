import { expect } from 'vitest'
import type { Findings, Summary } from './history.js'

/**
 * What every fault scenario must keep, whatever it may lose by design: no response but 200 or a
 * cookie-less 503, no other client's data, no retired cookie serving again, nothing acknowledged
 * lost (an update, a session, an increment), and service resumed after the fault. Each scenario
 * asserts its own extras (rolled-back writes, the 503 window, sessions lost after a failure).
 *
 * @param result - the workload's summary and findings
 */
export function expectAcknowledgedKept({ summary, findings }: { summary: Summary; findings: Findings }): void {
  expect(findings.badResponses).toEqual([])
  expect(findings.foreignData).toEqual([])
  expect(findings.resurrected).toEqual([])
  expect(findings.lostUpdates).toEqual([])
  expect(findings.lostSessions).toEqual([])
  expect(findings.wrongCounts).toEqual([])
  expect(summary.resumed).toBeGreaterThan(10)
}
