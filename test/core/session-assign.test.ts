import { describe, expect, it } from 'vitest'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'

// express-session's `req.session.user = x` would set a property here that is never stored.
describe('assigning to the session handle', () => {
  const store = new MemoryStore()
  const layer = new SessionLayer<{ user: string }>({ store })

  it('throws a TypeError that names update(), and stores nothing', async () => {
    const session = layer.open(undefined)
    const assign = () => {
      ;(session as unknown as Record<string, unknown>).user = 'ada'
    }
    expect(assign).toThrow(TypeError)
    expect(assign).toThrow("await session.update('user', value)")
    expect(Object.keys(session)).toEqual([])
    expect(await session.get('user')).toBeUndefined()
    expect(session.id).toBeUndefined()
    expect(await session.commit()).toBeUndefined()
  })

  it('leaves methods, getters, symbols and reads as they are', async () => {
    const session = layer.open(undefined)
    expect(() => {
      ;(session as unknown as { id: string }).id = 'x'
    }).toThrow(TypeError) // a getter without a setter, as before
    const tag = Symbol('tag')
    ;(session as unknown as Record<symbol, unknown>)[tag] = 1
    expect((session as unknown as Record<symbol, unknown>)[tag]).toBe(1)
    expect((session as unknown as Record<string, unknown>).user).toBeUndefined()
    expect(await session.update('user', 'ada')).toBe(true)
    expect(await session.get('user')).toBe('ada')
    store.close()
  })
})

// express-session code calls methods that do not exist here, or passes callbacks nobody calls.
describe("express-session's session methods", () => {
  const layer = new SessionLayer({ store: new MemoryStore() })

  it.each([
    ['destroy', 'session.delete()'],
    ['save', 'already stored'],
    ['reload', 'already fresh'],
    ['touch', 'session.expire(seconds)'],
    ['resetMaxAge', 'session.expire(seconds)'],
  ])('%s() throws a TypeError that names what to write instead', (method, instead) => {
    const session = layer.open(undefined) as unknown as Record<string, () => void>
    expect(() => session[method]?.()).toThrow(TypeError)
    expect(() => session[method]?.()).toThrow(instead)
  })

  it.each(['regenerate', 'delete'] as const)(
    '%s(callback) throws ERR_SESSION_ARGUMENT at once instead of never calling it',
    (method) => {
      const session = layer.open(undefined)
      const call = (session[method] as (cb: () => void) => Promise<unknown>).bind(session)
      // Thrown, not rejected: callback-style code (passport's req.login) never holds the promise, and an
      // unhandled rejection would end the process.
      expect(() => call(() => undefined)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_ARGUMENT' }))
      expect(() => call(() => undefined)).toThrow(`await session.${method}()`)
      expect(session.active).toBe(false)
    },
  )

  it('leaves other unknown names alone: reads are undefined, and a session is not thenable', async () => {
    const session = layer.open(undefined) as unknown as Record<string, unknown>
    expect(session.then).toBeUndefined()
    expect(session.passport).toBeUndefined()
    expect(await Promise.resolve(session)).toBe(session)
  })

  it("reading express-session's session.cookie throws a TypeError that names expire(), not a TypeError on undefined", () => {
    const session = layer.open(undefined) as unknown as { cookie: { maxAge: number } }
    expect(() => {
      session.cookie.maxAge = 60_000
    }).toThrow(/^session\.cookie is express-session's: .*await session\.expire\(seconds\)/)
  })
})
