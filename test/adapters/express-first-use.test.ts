import { createServer, type ServerResponse } from 'node:http'
import compression from 'compression'
import express, { type RequestHandler } from 'express'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { session } from '../../src/adapters/express.js'
import { SessionLayer } from '../../src/core/layer.js'
import { onFirstUse as registerFirstUse, Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { listen } from '../helpers/listen.js'

// The Express middleware shadows the response's writeHead/write/end/flushHeaders only once the
// handler first uses the session (shadowing cost every request ~20 µs). These tests hold it to the
// behaviour of shadowing at once: the cookie of a session used anywhere before the response goes out,
// whatever other middleware wrapped the response and in which order, and a sealed session once the
// headers have left.

type Data = { count: number; user: string }

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

async function serve(build: (app: express.Express, layer: SessionLayer<Data>) => void) {
  const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { secure: false } })
  const app = express()
  build(app, layer)
  const server = await listen(createServer(app))
  stops.push(async () => {
    await server.close()
    await layer.store.close?.()
  })
  return { url: server.url, layer }
}

/** The session cookie's `name=value`, or undefined. */
function sessionCookie(response: Response): string | undefined {
  return response.headers
    .getSetCookie()
    .find((line) => line.startsWith('session='))
    ?.split(';')[0]
}

/**
 * A middleware that wraps `write` and `end` as compression does: it keeps the functions it found and
 * calls them from its wrappers, and counts the bytes that pass through it.
 */
function wrapping(seen: { bytes: number }): RequestHandler {
  return (_req, res, next) => {
    const { write, end } = res
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) seen.bytes += chunk.length
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
    } as typeof res.write
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) seen.bytes += chunk.length
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest)
    } as typeof res.end
    next()
  }
}

describe('Express: the response is wrapped at the session’s first use', () => {
  it('leaves the response of a request that never uses its session as Express made it', async () => {
    const owned: string[][] = []
    const { url } = await serve((app, layer) => {
      app.use(session(layer))
      app.get('/', (_req, res) => {
        owned.push(['writeHead', 'write', 'end', 'flushHeaders'].filter((name) => Object.hasOwn(res, name)))
        res.send('plain')
      })
    })
    const response = await fetch(url)
    expect(await response.text()).toBe('plain')
    expect(response.headers.get('set-cookie')).toBeNull()
    expect(owned).toEqual([[]])
  })

  it('sends the cookie of a write the handler did not await, under a wrapper installed before and one after', async () => {
    const before = { bytes: 0 }
    const after = { bytes: 0 }
    const { url } = await serve((app, layer) => {
      app.use(wrapping(before))
      const sessions = session(layer)
      app.use(sessions)
      app.use(wrapping(after))
      app.get(
        '/',
        sessions.route((req, res) => {
          void req.session.update('count', 1)
          res.send('written')
        }),
      )
      app.get(
        '/read',
        sessions.route(async (req, res) => {
          res.send(String(await req.session.get('count')))
        }),
      )
    })
    const response = await fetch(url)
    expect(await response.text()).toBe('written')
    const cookie = sessionCookie(response)
    expect(cookie).toMatch(/^session=[\w-]{22}$/)
    // Both wrappers saw the body: the deferred end went on through them.
    expect([before.bytes, after.bytes]).toEqual([7, 7])
    expect(await (await fetch(`${url}/read`, { headers: { cookie: cookie as string } })).text()).toBe('1')
  })

  it('finishes a response whose wrapper, installed after the first use, calls write and end later', async () => {
    // What compression does: it keeps the write/end it found (here the session's stand-ins) and calls
    // them from its zlib stream, one chunk now, the end after the stream flushed.
    const streaming: RequestHandler = (_req, res, next) => {
      const { write, end } = res as unknown as Record<'write' | 'end', (...args: unknown[]) => unknown>
      res.end = ((chunk: unknown) => {
        setImmediate(() => {
          write.call(res, chunk)
          setTimeout(() => end.call(res), 5)
        })
        return res
      }) as typeof res.end
      next()
    }
    const { url } = await serve((app, layer) => {
      const sessions = session(layer)
      app.use(sessions)
      app.use(
        sessions.route(async (req, _res, next) => {
          await req.session.update('user', 'ada')
          next()
        }),
      )
      app.use(streaming)
      app.get('/', (_req, res) => {
        res.end('compressed')
      })
    })
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
    expect(await response.text()).toBe('compressed')
    expect(sessionCookie(response)).toMatch(/^session=[\w-]{22}$/)
  })

  it('wraps the response when a middleware after it is the first to use the session', async () => {
    const { url } = await serve((app, layer) => {
      const sessions = session(layer)
      app.use(sessions)
      app.use(
        sessions.route(async (req, _res, next) => {
          if ((await req.session.get('user')) === undefined) void req.session.update('user', 'guest')
          next()
        }),
      )
      app.get('/', (_req, res) => {
        res.send('hello')
      })
    })
    const first = await fetch(url)
    expect(await first.text()).toBe('hello')
    expect(sessionCookie(first)).toMatch(/^session=[\w-]{22}$/)
  })

  it('seals a session first used after the response went out: creating it fails, nothing is stored', async () => {
    const outcomes: unknown[] = []
    const { url, layer } = await serve((app, layer) => {
      const sessions = session(layer)
      app.use(sessions)
      app.get('/', (req, res) => {
        res.send('done')
        // After the response: a write that would create the session needs a cookie that can no longer go out.
        const handle = (req as unknown as { session: Session<Data> }).session
        handle.update('count', 1).then(
          () => outcomes.push('written'),
          (error: { code?: string }) => outcomes.push(error.code),
        )
      })
    })
    const response = await fetch(url)
    expect(await response.text()).toBe('done')
    expect(response.headers.get('set-cookie')).toBeNull()
    await expect.poll(() => outcomes).toEqual(['ERR_SESSION_HEADERS_SENT'])
    expect((layer.store as MemoryStore).size).toBe(0)
  })

  it('seals a session first used after the first chunk of a streamed response', async () => {
    const outcomes: unknown[] = []
    const { url } = await serve((app, layer) => {
      app.use(session(layer))
      app.get('/', async (req, res) => {
        res.write('part one, ')
        const handle = (req as unknown as { session: Session<Data> }).session
        await handle.update('count', 1).then(
          () => outcomes.push('written'),
          (error: { code?: string }) => outcomes.push(error.code),
        )
        res.end('part two')
      })
    })
    const response = await fetch(url)
    expect(await response.text()).toBe('part one, part two')
    expect(response.headers.get('set-cookie')).toBeNull()
    expect(outcomes).toEqual(['ERR_SESSION_HEADERS_SENT'])
  })

  it('runs the first-use step before every method a handler can call', () => {
    // A method added to Session without `this.#calls.use()` would let a handler use the session
    // without the response being wrapped, and its cookie would be lost.
    const adapterOnly = new Set(['constructor', 'id', 'active', 'storeError', 'seal', 'commit'])
    const methods = Object.getOwnPropertyNames(Session.prototype).filter((name) => !adapterOnly.has(name))
    expect(methods.length).toBeGreaterThanOrEqual(16)
    const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { secure: false } })
    const unused: string[] = []
    for (const name of methods) {
      const handle = layer.open(undefined)
      let used = false
      // Through the same internal seam the Express middleware uses.
      registerFirstUse(handle, () => {
        used = true
      })
      try {
        const result = (handle as unknown as Record<string, (...args: unknown[]) => unknown>)[name]?.('count', 1)
        if (result instanceof Promise) result.catch(() => undefined)
      } catch {
        // Arguments the method refuses still count: the step runs before any check.
      }
      if (!used) unused.push(name)
    }
    expect(unused).toEqual([])
  })
})

describe('Express: what is replayed after the commit', () => {
  /** The app of docs/adapters.md: an auth middleware reads the session (its first use), then compression. */
  async function compressedAfterFirstUse() {
    return serve((app, layer) => {
      const sessions = session(layer)
      app.use(sessions)
      app.use(
        sessions.route(async (req, _res, next) => {
          if ((await req.session.get('user')) === undefined) await req.session.update('count', 1)
          next()
        }),
      )
      app.use(compression({ threshold: 0 }))
      app.get('/', (_req, res) => {
        res.write('part one, ')
        res.end('part two')
      })
    })
  }

  it.each(['identity', 'gzip'])(
    'finishes a write + end under compression mounted after the first use (%s)',
    async (encoding) => {
      const { url } = await compressedAfterFirstUse()
      // compression calls writeHead before each write while the headers look unsent: repeats are dropped.
      for (let round = 0; round < 2; round++) {
        const response = await fetch(url, {
          headers: { 'accept-encoding': encoding },
          signal: AbortSignal.timeout(5_000),
        })
        expect(await response.text()).toBe('part one, part two')
        expect(sessionCookie(response)).toMatch(/^session=[\w-]{22}$/)
      }
    },
  )

  it('answers 500 when a held-back writeHead throws (a header Node refuses), and the server goes on', async () => {
    const { url } = await serve((app, layer) => {
      const sessions = session(layer)
      app.use(sessions)
      app.get(
        '/',
        sessions.route(async (req, res) => {
          await req.session.update('count', 1)
          res.writeHead(200, { 'content-disposition': 'attachment; filename="report-\u20ac.txt"' })
          res.end('report')
        }),
      )
      app.get('/ok', (_req, res) => void res.send('ok'))
    })
    const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
      expect(response.status).toBe(500)
      expect(response.headers.get('set-cookie')).toBeNull()
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(await (await fetch(`${url}/ok`)).text()).toBe('ok')
      // Reported by its code; the message, which may quote the header, is not printed.
      expect(reported.mock.calls).toEqual([[expect.stringContaining('(ERR_INVALID_CHAR)')]])
    } finally {
      reported.mockRestore()
    }
  })
})
