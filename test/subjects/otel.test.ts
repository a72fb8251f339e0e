import { describe, expect, it } from 'vitest'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { type Point, telemetry } from '../otel/telemetry.js'

// ruts/otel with the real SDK: the subject calls are spans named for what they do (SPEC §14), each
// ended session counts as ruts.sessions.ended{reason=revoked}, and no span or metric holds a subject.
const otel = telemetry()

function sum(points: readonly Point[], name: string, attributes: Record<string, string>): number {
  return points
    .filter((point) => point.name === name)
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((total, point) => total + point.value, 0)
}

describe('ruts/otel and subjects', () => {
  it('spans ruts bind / subject / list / revoke, and counts each revoked session as ended', async () => {
    const layer = new SessionLayer({ store: new MemoryStore() })
    const subject = 'user:ada.lovelace@example.com'
    const login = async (cookie?: string): Promise<{ session: Session; cookie: string }> => {
      const session = layer.open(cookie)
      await session.setSubject(subject, { meta: { device: 'Analytical Engine' } })
      const line = String(await session.commit())
      return { session, cookie: line.slice(0, line.indexOf(';')) }
    }
    const first = await login()
    await login()
    await login()
    const before = await otel.points()
    otel.reset()
    const again = layer.open(first.cookie)
    expect(await again.getSubject()).toBe(subject)
    expect(await again.listSiblings()).toHaveLength(3)
    expect(await again.revokeOthers()).toBe(2)
    expect(await layer.sessions.revokeAll(subject)).toBe(1)
    const names = otel.spans().map((span) => span.name)
    expect(names).toEqual(['ruts subject', 'ruts list', 'ruts revoke', 'ruts revoke'])
    const after = await otel.points()
    const ended = { 'ruts.store': 'memory', 'ruts.reason': 'revoked' }
    expect(sum(after, 'ruts.sessions.ended', ended) - sum(before, 'ruts.sessions.ended', ended)).toBe(3)
    expect(sum(after, 'ruts.store.operation.duration', { 'ruts.operation': 'bind' })).toBe(3)
    const recorded = JSON.stringify([otel.spans().map((span) => [span.name, span.attributes, span.events]), after])
    expect(recorded).not.toContain('lovelace')
    expect(recorded).not.toContain('Analytical')
  })
})
