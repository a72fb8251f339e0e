import { createServer } from 'node:http'
import express from 'express'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { session } from '../../src/adapters/express.js'
import { SessionConfigError } from '../../src/core/errors.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { expressHarness } from '../helpers/express-harness.js'
import { listen } from '../helpers/listen.js'

describeAdapterBehaviour({ name: 'Express 5 on MemoryStore', start: expressHarness(5) })
describeAdapterBehaviour({ name: 'Express 4 on MemoryStore', start: expressHarness(4) })

describe('Express adapter typing', () => {
  it('types req.params through sessions.route<Params>, and req.session by the layer', async () => {
    const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore(), cookie: { secure: false } })
    const sessions = session(layer)
    const app = express().use(sessions)
    app.get(
      '/items/:id',
      sessions.route<{ id: string }>(async (req, res) => {
        expectTypeOf(req.params.id).toEqualTypeOf<string>()
        expectTypeOf(req.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
        await req.session.update('count', Number(req.params.id))
        res.json({ count: await req.session.get('count') })
      }),
    )
    const server = await listen(createServer(app))
    try {
      expect(await (await fetch(`${server.url}/items/7`)).json()).toEqual({ count: 7 })
    } finally {
      await server.close()
      await layer.store.close?.()
    }
  })
})

describe('Express adapter: sessions.route() before app.use(sessions)', () => {
  it('hands Express a SessionConfigError that names the fix, not a TypeError', async () => {
    const layer = new SessionLayer({ store: new MemoryStore(), cookie: { secure: false } })
    const sessions = session(layer)
    const app = express()
    let caught: unknown
    app.get(
      '/',
      sessions.route(async (req, res) => void res.json(await req.session.get('count'))),
    )
    app.use(sessions)
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      caught = error
      res.status(500).end()
    })
    const server = await listen(createServer(app))
    try {
      expect((await fetch(server.url)).status).toBe(500)
      expect(caught).toBeInstanceOf(SessionConfigError)
      expect(caught).toMatchObject({
        code: 'ERR_SESSION_CONFIG',
        message: expect.stringContaining('app.use(sessions)'),
      })
    } finally {
      await server.close()
    }
  })
})
