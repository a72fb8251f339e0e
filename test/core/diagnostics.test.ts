import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { type SessionEvent, type StoreCallContext, storeCallsObserved } from '../../src/core/diagnostics.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'
interface Seen {
  phase: Phase
  context: StoreCallContext
}

const storeCalls = tracingChannel('ruts:store')
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Record every `ruts:store` event and every `ruts:session` message until the test ends. */
function record(): { calls: Seen[]; events: SessionEvent[] } {
  const calls: Seen[] = []
  const events: SessionEvent[] = []
  const phases: Phase[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error']
  const handlers = Object.fromEntries(
    phases.map((phase) => [phase, (context: unknown) => calls.push({ phase, context: context as StoreCallContext })]),
  ) as unknown as Parameters<typeof storeCalls.subscribe>[0]
  const onEvent = (message: unknown) => events.push(message as SessionEvent)
  storeCalls.subscribe(handlers)
  subscribe('ruts:session', onEvent)
  cleanups.push(() => {
    storeCalls.unsubscribe(handlers)
    unsubscribe('ruts:session', onEvent)
  })
  return { calls, events }
}

const MARKER = 'marker-7f3e9c'
const SECRET = 'a-test-secret-that-is-long-enough-1234567890'

function layerOn(store: SessionStore) {
  const layer = new SessionLayer<Record<string, unknown>>({ store, secret: SECRET, cookie: { maxAge: 600 } })
  const request = async (cookie: string | undefined, act: (session: ReturnType<typeof layer.open>) => unknown) => {
    const session = layer.open(cookie === undefined ? undefined : `session=${cookie}`)
    await act(session)
    const committed = await session.commit()
    const setCookie = typeof committed === 'string' ? committed : committed?.[0]
    return { id: session.id, cookie: setCookie?.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')) }
  }
  return request
}

describe('diagnostics channels', () => {
  it('are not observed, and nothing is published, without subscribers', async () => {
    expect(storeCallsObserved()).toBe(false)
    const store = countingStore(new MemoryStore())
    await layerOn(store)(undefined, (session) => session.update('a', 1))
    expect(store.calls.write).toBe(1)
    const { calls } = record()
    expect(storeCallsObserved()).toBe(true)
    expect(calls).toEqual([])
  })

  it('trace every store call of the layer with { store, operation } only, in order', async () => {
    const { calls, events } = record()
    const request = layerOn(new MemoryStore())
    const created = await request(undefined, (session) => session.update('user', { token: MARKER }))
    await request(created.cookie, async (session) => {
      await session.get('user')
      await session.getAll()
      await session.remove('other')
      await session.expire(300)
      await session.increment('visits')
      await session.take('visits')
      await session.regenerate()
    })
    expect(calls.filter((call) => call.phase === 'start').map((call) => call.context)).toEqual(
      ['write', 'get', 'getAll', 'remove', 'expire', 'increment', 'take', 'rename'].map((operation) => ({
        store: 'memory',
        operation,
      })),
    )
    const first = calls.slice(0, 4)
    expect(first.map((call) => call.phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    expect(new Set(first.map((call) => call.context)).size).toBe(1)
    expect(events).toEqual([
      { event: 'created', store: 'memory' },
      { event: 'regenerated', store: 'memory' },
    ])
    // Nothing identifying or secret in any payload: no raw id, store key, value, field or secret.
    const published = JSON.stringify([calls, events])
    for (const secret of [created.id, sessionKeyOf(created.id as string), MARKER, 'user', SECRET]) {
      expect(published).not.toContain(secret)
    }
  })

  it('publish deleted, expired and invalid lifecycle events', async () => {
    const { events } = record()
    const request = layerOn(new MemoryStore())
    const { cookie } = await request(undefined, (session) => session.update('a', 1))
    await request(cookie, (session) => session.delete())
    await request(cookie, (session) => session.get('a'))
    await request('not-a-session-cookie', (session) => session.get('a'))
    await request(createSessionId(), (session) => session.get('a'))
    expect(events.map((event) => event.event)).toEqual(['created', 'deleted', 'expired', 'invalid', 'invalid'])
  })

  it('report a failing store as an error with its code, and a store-error event', async () => {
    const { calls, events } = record()
    const store = countingStore(new MemoryStore())
    const request = layerOn(store)
    const { cookie } = await request(undefined, (session) => session.update('a', 1))
    store.failing = true
    const failure = await request(cookie, (session) => session.get('a')).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'ERR_SESSION_STORE' })
    const errors = calls.filter((call) => call.phase === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]?.context).toMatchObject({ store: 'memory', operation: 'get', error: failure })
    expect(calls.at(-1)?.phase).toBe('asyncEnd')
    expect(events.at(-1)).toEqual({
      event: 'store-error',
      store: 'memory',
      operation: 'get',
      code: 'ERR_SESSION_STORE',
    })
  })

  it("trace a layered store's tier calls with their tier, inside the layered call", async () => {
    const hot = new MemoryStore()
    const cold = new MemoryStore()
    const store = new LayeredStore({ hot, cold })
    const request = layerOn(store)
    const { cookie } = await request(undefined, (session) => session.update('a', 1))
    const key = sessionKeyOf((await request(cookie, (session) => session.id)).id as string)
    await hot.delete(key) // hot misses: the read goes to cold and warms hot
    const { calls } = record()
    await request(cookie, (session) => session.get('a'))
    await store.close() // waits for the background warm
    await Promise.all([hot.close(), cold.close()])
    const order = calls
      .filter((call) => call.phase === 'start' || call.phase === 'asyncEnd')
      .map(({ phase, context }) => `${phase} ${context.store} ${context.operation} ${context.tier ?? '-'}`)
    expect(order.slice(0, 6)).toEqual([
      'start layered get -',
      'start memory get hot',
      'asyncEnd memory get hot',
      'start memory get cold',
      'asyncEnd memory get cold',
      // the warm starts before the read answers, and nobody waits for it
      'start memory write hot',
    ])
    // The layered call ends; the background warm (whose exact calls are the layered store's business)
    // goes on with tier calls only.
    expect(order.slice(6)).toContain('asyncEnd layered get -')
    expect(order.slice(6).filter((entry) => !entry.endsWith(' hot') && !entry.endsWith(' cold'))).toEqual([
      'asyncEnd layered get -',
    ])
  })

  it("publishes a third-party tier's backend error redacted: no command arguments reach a subscriber", async () => {
    const cold = new MemoryStore()
    // A tier whose backend error carries the command, as ioredis' ReplyError does.
    const hot: SessionStore = Object.assign(countingStore(new MemoryStore()), {
      name: 'their-store',
      get: () =>
        Promise.reject(Object.assign(new Error('backend down'), { code: 'EDOWN', command: { args: [MARKER] } })),
    })
    const store = new LayeredStore({ hot, cold, onError: () => undefined })
    const request = layerOn(store)
    const { cookie } = await request(undefined, (session) => session.update('a', 1))
    const { calls } = record()
    await request(cookie, (session) => session.get('a')).catch(() => undefined)
    await store.close()
    const errors = calls.filter((call) => call.phase === 'error' && call.context.tier === 'hot')
    expect(errors.length).toBeGreaterThan(0)
    for (const { context } of errors) {
      expect(context.error).toMatchObject({ name: 'Error', message: 'backend down', code: 'EDOWN' })
      expect(JSON.stringify(context.error)).not.toContain(MARKER)
      expect((context.error as { command?: unknown }).command).toBeUndefined()
    }
  })
})
