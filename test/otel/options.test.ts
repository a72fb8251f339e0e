import { describe, expect, it } from 'vitest'
import { instrumentSessions } from '../../src/otel/index.js'

describe('instrumentSessions options', () => {
  it.each([
    ['a tracer provider that is none', { tracerProvider: 5 }],
    ['a meter provider without getMeter', { meterProvider: {} }],
    ['an unknown option', { traceProvider: {} }],
    ['options that are not an object', 'yes'],
  ])('refuses %s at the call, with a typed error', (_, options) => {
    expect(() => instrumentSessions(options as never)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
  })

  it('works without any provider registered, and unsubscribes', () => {
    const stop = instrumentSessions()
    expect(typeof stop).toBe('function')
    stop()
  })
})
