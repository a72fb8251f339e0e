import { SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import type { SuiteHandler } from '../../src/testing/adapter-routes.js'
import type { RunningServer, StartServer } from '../../src/testing/adapter-suite.js'
import { type CountingStore, countingStore } from '../../src/testing/counting-store.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { expressHarness } from '../helpers/express-harness.js'
import { fastifyHarness } from '../helpers/fastify-harness.js'
import { clientKinds, connections, describeRedis, storeFor } from '../redis/clients.js'
import { rutsChildren, telemetry } from './telemetry.js'

// ruts/otel with the real SDK, through HTTP on Express and Fastify: every store call of a request
// is a `ruts <operation>` span under the handler's active span, and the metrics count what happened.
const otel = telemetry()
const tracer = otel.provider.getTracer('test')

/** Each request's session work runs inside an active `handler` span, as under an HTTP instrumentation. */
const handler: SuiteHandler = (session, url) =>
  tracer.startActiveSpan('handler', async (span) => {
    try {
      switch (url.pathname) {
        case '/login':
          return { json: await session.update('user', { name: 'ada' }) }
        case '/read':
          return { json: (await session.get('user')) ?? null }
        default:
          return { json: await session.delete() }
      }
    } finally {
      span.end()
    }
  })

const frameworks: [string, StartServer][] = [
  ['Express 5', expressHarness(5)],
  ['Fastify 5', fastifyHarness],
]

/** The `handler` span of the last request and the ruts spans under it. */
function lastRequest(): { root: ReadableSpan; children: ReadableSpan[]; all: ReadableSpan[] } {
  const all = otel.spans()
  const root = all.filter((span) => span.name === 'handler').at(-1) as ReadableSpan
  return { root, children: rutsChildren(all, root), all }
}

const summary = (span: ReadableSpan) => ({ name: span.name, attributes: span.attributes })

interface Setup {
  name: string
  /** The store is a counting wrapper that can be told to fail. */
  faults?: boolean
  store(): Promise<{ store: SessionStore; counting?: CountingStore; hot?: SessionStore }>
}

function describeStore(setup: Setup, describeIt: (name: string, body: () => void) => void = describe): void {
  for (const [framework, start] of frameworks) {
    describeIt(`ruts/otel on ${framework} with ${setup.name}`, () => {
      let server: RunningServer
      let parts: Awaited<ReturnType<Setup['store']>>
      beforeAll(async () => {
        parts = await setup.store()
        server = await start(new SessionLayer({ store: parts.store, cookie: { maxAge: 600 } }), handler)
      })
      afterAll(async () => {
        await server.close()
        await parts.store.close?.()
      })

      it('traces each store call as a ruts span under the active span, and counts it', async () => {
        const client = new CookieClient(server.url)
        const before = await otel.points()
        await client.request('/login')
        const login = lastRequest()
        expect(login.children.map(summary)).toEqual([
          { name: 'ruts write', attributes: { 'ruts.store': parts.store.name, 'ruts.operation': 'write' } },
        ])
        await client.request('/read')
        const read = lastRequest()
        expect(read.children.map(summary)).toEqual([
          { name: 'ruts get', attributes: { 'ruts.store': parts.store.name, 'ruts.operation': 'get' } },
        ])
        await client.request('/logout')
        const after = await otel.points()
        const delta = (name: string, attributes: Record<string, string>) =>
          sum(after, name, attributes) - sum(before, name, attributes)
        const store = { 'ruts.store': parts.store.name }
        expect(delta('ruts.sessions.created', store)).toBe(1)
        expect(delta('ruts.sessions.ended', { ...store, 'ruts.reason': 'deleted' })).toBe(1)
        for (const operation of ['write', 'get', 'delete']) {
          const attributes = { ...store, 'ruts.operation': operation, 'ruts.outcome': 'ok' }
          expect(delta('ruts.store.operation.duration', attributes)).toBe(1)
        }
      })

      if (setup.faults) {
        it('marks a failed store call with the error code, and counts the store error', async () => {
          const client = new CookieClient(server.url)
          await client.request('/login')
          const before = await otel.points()
          ;(parts.counting as CountingStore).failing = true
          try {
            expect((await client.request('/read')).status).toBe(503)
          } finally {
            ;(parts.counting as CountingStore).failing = false
          }
          const [span] = lastRequest().children
          expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_SESSION_STORE' })
          expect(span?.attributes['error.type']).toBe('ERR_SESSION_STORE')
          const errors = { 'ruts.store': 'memory', 'ruts.operation': 'get', 'error.type': 'ERR_SESSION_STORE' }
          expect(sum(await otel.points(), 'ruts.store.errors', errors) - sum(before, 'ruts.store.errors', errors)).toBe(
            1,
          )
        })
      }

      if (setup.name.startsWith('LayeredStore')) {
        it('nests the hot and cold tier spans under one ruts get', async () => {
          const client = new CookieClient(server.url)
          await client.request('/login')
          // Drop the hot copy: the next read misses hot, reads cold, and warms hot in the background.
          await parts.hot?.delete(sessionKeyOf(client.value as string))
          await client.request('/read')
          await parts.store.close?.() // waits for the warm
          const { children, all } = lastRequest()
          expect(children.map((span) => span.name)).toEqual(['ruts get'])
          const tiers = rutsChildren(all, children[0] as ReadableSpan).map((span) => span.attributes)
          // The read: hot misses, cold answers; then the background warm (hot write, and whatever
          // else the layered store's warming protocol does), every call a tier span under the read.
          expect(tiers.slice(0, 2)).toEqual([
            { 'ruts.store': parts.hot?.name, 'ruts.operation': 'get', 'ruts.tier': 'hot' },
            { 'ruts.store': 'memory', 'ruts.operation': 'get', 'ruts.tier': 'cold' },
          ])
          expect(tiers).toContainEqual({ 'ruts.store': parts.hot?.name, 'ruts.operation': 'write', 'ruts.tier': 'hot' })
          for (const attributes of tiers) expect(['hot', 'cold']).toContain(attributes['ruts.tier'])
        })
      }
    })
  }
}

function sum(
  points: Awaited<ReturnType<typeof otel.points>>,
  name: string,
  attributes: Record<string, string>,
): number {
  return points
    .filter((point) => point.name === name)
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((total, point) => total + point.value, 0)
}

describeStore({
  name: 'MemoryStore',
  faults: true,
  async store() {
    const counting = countingStore(new MemoryStore())
    return { store: counting, counting }
  },
})

const connect = connections()
const ioredis = clientKinds[0]
for (const layered of [false, true]) {
  describeStore(
    {
      name: layered ? 'LayeredStore (RedisStore over MemoryStore)' : 'RedisStore',
      async store() {
        const redis = storeFor((await connect(ioredis as (typeof clientKinds)[0])).client)
        if (!layered) return { store: redis }
        return { store: new LayeredStore({ hot: redis, cold: new MemoryStore() }), hot: redis }
      },
    },
    describeRedis,
  )
}
