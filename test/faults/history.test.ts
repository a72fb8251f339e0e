import { describe, expect, it } from 'vitest'
import { SessionExpectation } from './history.js'

// The checker's own rules: what it counts as a session lost after a failure, not a lost session.
describe('SessionExpectation', () => {
  it('a read settles a failure that did not time out', () => {
    const expectation = new SessionExpectation()
    expectation.failed()
    expect(expectation.failedBefore(100)).toBe(true)
    expect(expectation.observe(0)).toBe('ok')
    expect(expectation.failedBefore(100)).toBe(false)
  })

  it('a read does not settle a timed-out failure until its command can no longer land', () => {
    const expectation = new SessionExpectation()
    expectation.failed(undefined, 5_000)
    expect(expectation.observe(0)).toBe('ok')
    expect(expectation.failedBefore(4_999)).toBe(true)
    expect(expectation.failedBefore(5_000)).toBe(false)
    // An acknowledgement does not settle it either: the late command is still on its way.
    expectation.acknowledge(1)
    expect(expectation.failedBefore(4_000)).toBe(true)
  })
})
