import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import type { SessionEvent, StoreCallContext } from '../../src/core/diagnostics.js'
import { SessionConfigError } from '../../src/core/errors.js'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import type { SessionStore } from '../../src/core/store.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'

const codeOf = (work: Promise<unknown>) =>
  work.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  )

/** A store that implements only the required part of the contract, like an older custom store. */
function basicStore(inner: SessionStore): SessionStore {
  const store: Record<string, unknown> = { name: 'basic' }
  for (const name of ['get', 'getAll', 'write', 'remove', 'delete', 'expire', 'rename', 'increment', 'take'] as const) {
    store[name] = (inner[name] as (...args: unknown[]) => unknown).bind(inner)
  }
  return store as unknown as SessionStore
}

/** One request: open with the cookie, act, commit; returns the cookie value the browser keeps. */
async function request<T>(
  layer: SessionLayer,
  cookie: string | undefined,
  act: (session: Session) => Promise<T>,
): Promise<{ result: T; cookie: string | undefined; setCookie: string | undefined }> {
  const session = layer.open(cookie === undefined ? undefined : `session=${cookie}`)
  const result = await act(session)
  const committed = await session.commit()
  const setCookie = typeof committed === 'string' ? committed : committed?.[0]
  const next = setCookie === undefined ? cookie : setCookie.slice(8, setCookie.indexOf(';'))
  return { result, cookie: next === '' ? undefined : next, setCookie }
}

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function record(): { operations: StoreCallContext[]; events: SessionEvent[] } {
  const operations: StoreCallContext[] = []
  const events: SessionEvent[] = []
  const channel = tracingChannel<unknown, StoreCallContext>('ruts:store')
  const handlers = {
    start: (context: StoreCallContext) => operations.push(context),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: () => {},
    error: () => {},
  }
  const onEvent = (message: unknown) => events.push(message as SessionEvent)
  channel.subscribe(handlers as never)
  subscribe('ruts:session', onEvent)
  cleanups.push(() => {
    channel.unsubscribe(handlers as never)
    unsubscribe('ruts:session', onEvent)
  })
  return { operations, events }
}

describe('the subject API of the layer', () => {
  it('binds in one store call, with or without a session, and reads the subject back in one more', async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer({ store })
    const created = await request(layer, undefined, (session) => session.setSubject('user:1'))
    expect(store.calls).toMatchObject({ bind: 1 })
    expect(store.total()).toBe(1)
    store.reset()
    const visit = await request(layer, created.cookie, (session) => session.update('n', 1))
    store.reset()
    const moved = await request(layer, visit.cookie, (session) => session.setSubject('user:2'))
    expect(store.total()).toBe(1)
    expect(moved.cookie).not.toBe(visit.cookie)
    store.reset()
    const read = await request(layer, moved.cookie, async (session) => [
      await session.getSubject(),
      await session.getSubject(),
      await session.get('n'),
    ])
    expect(read.result).toEqual(['user:2', 'user:2', 1])
    expect(store.calls).toMatchObject({ subjectOf: 1, get: 1 })
    // Known from the bind in the same request: no subjectOf.
    store.reset()
    await request(layer, moved.cookie, async (session) => {
      await session.setSubject('user:2', { meta: { device: 'x' } })
      return session.getSubject()
    })
    expect(store.calls).toMatchObject({ bind: 1, subjectOf: 0 })
  })

  it('writes under a prepared id when the bind moves the session, and keeps it pending when it does not', async () => {
    const layer = new SessionLayer({ store: new MemoryStore() })
    const first = await request(layer, undefined, (session) => session.update('n', 1))
    const moved = await request(layer, first.cookie, async (session) => {
      const prepared = session.prepareRegenerate()
      await session.setSubject('user:1')
      return prepared === session.id
    })
    expect(moved.result).toBe(true)
    const kept = await request(layer, moved.cookie, async (session) => {
      const prepared = session.prepareRegenerate()
      await session.setSubject('user:1')
      return prepared
    })
    // Same subject: the bind kept the session, and commit applied the prepared id.
    expect(kept.cookie).toBe(kept.result)
    const after = await request(layer, kept.cookie, async (session) => [
      await session.getSubject(),
      await session.get('n'),
    ])
    expect(after.result).toEqual(['user:1', 1])
    expect(await layer.store.get(sessionKeyOf(moved.cookie as string), 'n')).toEqual({ live: false })
  })

  it('binds a fresh session after delete() in the same request', async () => {
    const layer = new SessionLayer({ store: new MemoryStore() })
    const first = await request(layer, undefined, (session) => session.setSubject('user:1'))
    const second = await request(layer, first.cookie, async (session) => {
      await session.delete()
      await session.setSubject('user:2')
      return session.getSubject()
    })
    expect(second.result).toBe('user:2')
    expect(second.cookie).not.toBe(first.cookie)
    expect(await layer.sessions.list('user:1')).toEqual([])
    expect(await layer.sessions.list('user:2')).toHaveLength(1)
  })

  it('publishes created, regenerated and one revoked per ended session, and traces bind/subject/list/revoke', async () => {
    const layer = new SessionLayer({ store: new MemoryStore(), maxSessionsPerSubject: 3 })
    const seen = record()
    const subject = 'user:someone@example.com'
    await request(layer, undefined, (session) => session.setSubject(subject))
    const guest = await request(layer, undefined, (session) => session.update('n', 1))
    await request(layer, guest.cookie, (session) => session.setSubject(subject))
    await request(layer, undefined, (session) => session.setSubject(subject))
    const last = await request(layer, undefined, (session) => session.setSubject(subject)) // ends the first
    expect(seen.events.map((event) => event.event)).toEqual([
      'created',
      'created',
      'regenerated',
      'created',
      'revoked',
      'created',
    ])
    seen.events.length = 0
    const others = await request(layer, last.cookie, async (session) => {
      expect(await session.listSiblings()).toHaveLength(3)
      return session.revokeOthers()
    })
    expect(others.result).toBe(2)
    expect(await layer.sessions.revokeAll(subject)).toBe(1)
    expect(seen.events.map((event) => event.event)).toEqual(['revoked', 'revoked', 'revoked'])
    const operations = seen.operations.map((context) => context.operation)
    expect(new Set(operations)).toEqual(new Set(['bind', 'write', 'subject', 'list', 'revoke']))
    // Subjects are user ids: never in a trace or an event.
    const published = JSON.stringify([seen.operations, seen.events])
    expect(published).not.toContain('someone')
  })

  it('refuses bad subjects and meta with typed errors that do not repeat them, before any store call', async () => {
    const store = countingStore(new MemoryStore())
    const layer = new SessionLayer({ store })
    const session = layer.open(undefined)
    // A lone surrogate would reach Redis and Postgres as U+FFFD: 'a\ud800' and 'a\ufffd' one subject.
    for (const subject of [
      '',
      'x'.repeat(257),
      '\u{1F600}'.repeat(257),
      42,
      undefined,
      'someone\ud800',
      'some\udfffone',
      'some\0one',
    ]) {
      const error = await session.setSubject(subject as string).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ERR_SESSION_ARGUMENT' })
    }
    for (const options of [null, 'meta', 7]) {
      expect(await codeOf(session.setSubject('user:1', options as never))).toBe('ERR_SESSION_ARGUMENT')
    }
    // 256 characters, counted as characters: 256 emoji are 512 UTF-16 code units.
    const other = new SessionLayer({ store: new MemoryStore() }).open(undefined)
    expect(await other.setSubject('\u{1F600}'.repeat(256))).toBeUndefined()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const meta of [
      [],
      new Date(),
      { at: new Date() },
      { n: Number.NaN },
      { big: 1n },
      cyclic,
      { s: 'x'.repeat(1020) },
    ]) {
      expect(await codeOf(session.setSubject('user:1', { meta: meta as never }))).toBe('ERR_SESSION_VALUE')
    }
    const secret = 'user:private-name'
    const error = await layer.sessions.list(`${secret}${'x'.repeat(300)}`).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SESSION_ARGUMENT' })
    expect(inspect(error)).not.toContain('private-name')
    expect(store.total()).toBe(0)
    // Exactly 1 KB is fine; undefined properties are left out as JSON does.
    const fits = { s: 'x'.repeat(1024 - '{"s":""}'.length), gone: undefined }
    await session.setSubject('user:1', { meta: fits })
    expect((await layer.sessions.list('user:1'))[0]?.meta).toEqual({ s: fits.s })
    expect(() => new SessionLayer({ store, maxSessionsPerSubject: 0 })).toThrow(SessionConfigError)
    expect(() => new SessionLayer({ store, maxSessionsPerSubject: 1.5 })).toThrow(/maxSessionsPerSubject/)
  })

  it('answers ERR_SESSION_UNSUPPORTED from the subject API only, on a store without the capability', async () => {
    const layer = new SessionLayer({ store: basicStore(new MemoryStore()) })
    const session = layer.open(undefined)
    expect(await codeOf(session.setSubject('user:1'))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(session.getSubject())).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(session.listSiblings())).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(session.revokeOthers())).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(layer.sessions.list('user:1'))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(layer.sessions.revoke('user:1', 'A'.repeat(43)))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await codeOf(layer.sessions.revokeAll('user:1'))).toBe('ERR_SESSION_UNSUPPORTED')
    expect(await session.update('n', 1)).toBe(true)
    expect(await session.increment('n')).toBe(2)
    expect(await session.regenerate()).toBeDefined()
    expect(await session.commit()).toMatch(/^session=/)
  })
})
