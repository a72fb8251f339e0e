import { createServer } from 'node:http'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/express.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { listen } from '../helpers/listen.js'

// SPEC §10: with the default 10,000 sessions, 10,000 cookieless requests to a counter page evicted a
// logged-in user. Scan-resistant eviction keeps a session that came back through any such storm.
// Here at a small capacity, so the suite stays fast on a loaded machine: twice the capacity in
// one-shot sessions (the 10,000-session run is in the closing note of issue 11, and
// src/stores/memory.test.ts storms the store itself with 10,000 sessions).
const CAPACITY = 300
const STORM = 2 * CAPACITY
const CONCURRENCY = 16

const store = new MemoryStore({ maxSessions: CAPACITY })
const layer = new SessionLayer<{ user: string; count: number }>({ store, cookie: { secure: false } })
const sessions = session(layer)
const app = express()
app.use(sessions)
app.get(
  '/login',
  sessions.route(async (req, res) => {
    await req.session.update('user', 'ada')
    res.json(true)
  }),
)
app.get(
  '/me',
  sessions.route(async (req, res) => void res.json((await req.session.get('user')) ?? null)),
)
app.get(
  '/count',
  sessions.route(async (req, res) => {
    const count = ((await req.session.get('count')) ?? 0) + 1
    await req.session.update('count', count)
    res.json(count)
  }),
)
const server = await listen(createServer(app))
afterAll(async () => {
  await server.close()
  await store.close()
})

describe('MemoryStore under a storm of cookieless requests, through Express', () => {
  it(`keeps a returning logged-in user through ${STORM} one-shot sessions`, async () => {
    const user = new CookieClient(server.url)
    await user.request('/login')
    // The user comes back in a later request (a use by the creating request does not protect).
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect((await user.request('/me')).json).toBe('ada')

    let sent = 0
    const anonymous = async () => {
      while (sent < STORM) {
        sent++
        const response = await fetch(`${server.url}/count`)
        expect(response.status).toBe(200)
        await response.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, anonymous))
    expect(store.size).toBe(CAPACITY)
    expect((await user.request('/me')).json).toBe('ada')
  }, 60_000)
})
