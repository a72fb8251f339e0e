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
