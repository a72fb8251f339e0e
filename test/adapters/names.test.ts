import { describe, expect, it } from 'vitest'
import { session as express } from '../../src/adapters/express.js'
import { fastifySession } from '../../src/adapters/fastify.js'
import { session as h3 } from '../../src/adapters/h3.js'
import { session as hono } from '../../src/adapters/hono.js'
import { session as koa } from '../../src/adapters/koa.js'
import { session as sveltekit } from '../../src/adapters/sveltekit.js'
import { withSession } from '../../src/adapters/web.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'

// A stack trace through the middleware names it (an arrow function would show as anonymous).
describe('adapter middleware', () => {
  const layer = new SessionLayer({ store: new MemoryStore() })

  it('is a named function in every adapter', () => {
    const sessions = express(layer)
    expect(sessions.name).toBe('rutsSession')
    expect(sessions.route(async () => undefined).name).toBe('rutsSessionRoute')
    expect(koa(layer).name).toBe('rutsSession')
    expect(hono(layer).name).toBe('rutsSession')
    expect(withSession(layer, async () => new Response()).name).toBe('rutsSession')
    expect(fastifySession.name).toBe('rutsSessionPlugin')
    expect(h3(layer).name).toBe('rutsSession')
    expect(sveltekit(layer).name).toBe('rutsSession')
  })
})
