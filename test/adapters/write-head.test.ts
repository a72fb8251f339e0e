import { createServer, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { deferHeadersUntilCommitted } from '../../src/adapters/contract/node-headers.js'
import { session } from '../../src/adapters/express.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { listen } from '../helpers/listen.js'

// Node gives headers passed to `writeHead(status, headers)` precedence over those set with
// `setHeader`. The adapters add the session cookie and `Cache-Control: no-store` with `setHeader`, so
// a handler that responds through `writeHead` with its own `Set-Cookie` or `Cache-Control` must not
// drop the session cookie (a login signed out) or make the response cacheable by a shared cache.

type Respond = (res: ServerResponse) => void

const headersOf: Record<string, Respond> = {
  'an object': (res) => res.writeHead(200, { 'Cache-Control': 'public, max-age=3600', 'Set-Cookie': 'theme=dark' }),
  'an object, after a status message': (res) =>
    res.writeHead(200, 'Fine', { 'cache-control': 'public', 'set-cookie': ['theme=dark', 'lang=en'] }),
  'a flat list': (res) => res.writeHead(200, ['Cache-Control', 'public', 'Set-Cookie', 'theme=dark']),
}

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

async function start(
  handler: (
    req: { session: { update(field: string, value: unknown): Promise<boolean> } },
    res: ServerResponse,
  ) => Promise<void>,
  via: 'express' | 'node:http',
) {
  const layer = new SessionLayer({ store: new MemoryStore(), cookie: { secure: false } })
  let server: Awaited<ReturnType<typeof listen>>
  if (via === 'express') {
    const app = express()
    const sessions = session(layer)
    app.use(sessions)
    app.get(
      '/',
      sessions.route((req, res) => handler(req, res)),
    )
    server = await listen(createServer(app))
  } else {
    server = await listen(
      createServer((req, res) => {
        const handle = layer.open(req.headers.cookie)
        deferHeadersUntilCommitted(handle, res)
        void handler({ session: handle }, res)
      }),
    )
  }
  stops.push(() => server.close())
  return server.url
}

describe.each(['express', 'node:http'] as const)('writeHead with headers, through %s', (via) => {
  it.each(Object.entries(headersOf))(
    'keeps the session cookie and no-store beside headers given as %s',
    async (_, respond) => {
      const url = await start(async (req, res) => {
        await req.session.update('cart', 'x')
        respond(res)
        res.end('hi')
      }, via)
      const response = await fetch(url)
      expect(await response.text()).toBe('hi')
      const cookies = response.headers.getSetCookie()
      expect(cookies.some((line) => /^session=[A-Za-z0-9_-]{22}; /.test(line))).toBe(true)
      expect(cookies).toContain('theme=dark')
      expect(response.headers.get('cache-control')).toBe('no-store')
    },
  )

  it('leaves writeHead alone when the response carries no session cookie', async () => {
    const url = await start(async (_req, res) => {
      res.writeHead(201, { 'Cache-Control': 'public', 'X-Own': 'yes' } satisfies OutgoingHttpHeaders)
      res.end()
    }, via)
    const response = await fetch(url)
    expect(response.status).toBe(201)
    expect(response.headers.get('cache-control')).toBe('public')
    expect(response.headers.get('x-own')).toBe('yes')
    expect(response.headers.getSetCookie()).toEqual([])
  })
})
