import { H3 } from 'h3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { session } from '../../src/adapters/h3.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { h3Harness, h3v1Harness } from '../helpers/h3-harness.js'

describeAdapterBehaviour({ name: 'h3 2 (node:http via h3/node) on MemoryStore', start: h3Harness })
describe('h3 1', () => {
  // h3 1 logs every error that is not an H3Error; the suite provokes store failures on purpose.
  const logged: unknown[] = []
  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.at(-1)))
  })
  afterAll(() => {
    vi.mocked(console.error).mockRestore()
    expect(logged.length).toBeGreaterThan(0)
    for (const error of logged) expect(error).toMatchObject({ statusCode: 503 })
  })
  describeAdapterBehaviour({ name: 'h3 1 (node:http via toNodeListener) on MemoryStore', start: h3v1Harness })
})

describe('h3 adapter', () => {
  const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })

  it('adds the cookie to a Response the handler returns with an error status (h3 would drop it)', async () => {
    const app = new H3().use(session(layer))
    app.get('/', async (event) => {
      await (event.context.session as Session<{ count: number }>).update('count', 1)
      return new Response('invalid', { status: 422, headers: { 'set-cookie': 'own=1; Path=/' } })
    })
    const response = await app.request('/')
    expect(response.status).toBe(422)
    const cookies = response.headers.getSetCookie()
    expect(cookies[0]).toBe('own=1; Path=/')
    expect(cookies[1]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    expect(cookies).toHaveLength(2)
  })

  it('leaves a request that never touches the session alone', async () => {
    const app = new H3().use(session(layer))
    app.get('/', () => 'untouched')
    const response = await app.request('/')
    expect(await response.text()).toBe('untouched')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBeNull()
  })
})
