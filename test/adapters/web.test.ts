import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest'
import { withSession } from '../../src/adapters/web.js'
import { SessionStoreError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { webHarness } from '../helpers/hono-harness.js'
import { listen } from '../helpers/listen.js'

// The suite serves `withSession(…)` from node:http through @hono/node-server's getRequestListener.
describeAdapterBehaviour({ name: 'Web (node:http via @hono/node-server) on MemoryStore', start: webHarness })

describe('Web adapter', () => {
  const store = countingStore(new MemoryStore())
  const layer = new SessionLayer<{ count: number }>({ store })
  afterAll(() => store.close?.())

  it('types the session by the layer', () => {
    withSession(layer, async (_request, session) => {
      expectTypeOf(session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      return new Response()
    })
  })

  it('copies a response whose headers are immutable (a fetch() result) and keeps its cookies', async () => {
    const upstream = await listen(
      createServer((_req, res) => {
        res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
        res.end('upstream')
      }),
    )
    const handler = withSession(layer, async (_request, session) => {
      await session.update('count', 1)
      return fetch(upstream.url)
    })
    const served = await listen(createServer(getRequestListener(handler)))
    const response = await fetch(served.url)
    const cookies = response.headers.getSetCookie()
    expect(cookies.slice(0, 2)).toEqual(['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
    expect(cookies[2]).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    expect(cookies).toHaveLength(3)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.text()).toBe('upstream')
    await Promise.all([served.close(), upstream.close()])
  })

  it('answers store failures with onStoreError and rethrows other errors', async () => {
    const cookie = { headers: { cookie: 'session=AAAAAAAAAAAAAAAAAAAAAA' } }
    const handler = withSession(layer, async (_request, session) => Response.json(await session.get('count')), {
      onStoreError: (error) => new Response(error.code, { status: 503, headers: { 'retry-after': '5' } }),
    })
    store.failing = true
    const failed = await handler(new Request('http://localhost/', cookie))
    store.failing = false
    expect(failed.status).toBe(503)
    expect(await failed.text()).toBe('ERR_SESSION_STORE')
    expect(failed.headers.getSetCookie()).toEqual([])
    const boom = withSession(layer, () => {
      throw new TypeError('boom')
    })
    await expect(boom(new Request('http://localhost/'))).rejects.toBeInstanceOf(TypeError)
    expect(new SessionStoreError('x').status).toBe(503)
  })
})
