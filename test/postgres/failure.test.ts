import { createServer } from 'node:http'
import express from 'express'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { session } from '../../src/adapters/express.js'
import { SessionStoreError } from '../../src/core/errors.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { listen } from '../helpers/listen.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { postgres, skipReason, testPool, testStore, uniqueTable } from './helpers.js'
import { closedPort, startProxy } from './proxy.js'

const TIMEOUT = 400
/** Slack for timers on a loaded CI machine; the bound stays far below "hangs" and below the 2 s default. */
const SLACK = 1000
const create = writeOptionsFor('create', 60)
const key = (): string => sessionKeyOf(createSessionId())

/** A pool through a proxy; pg requires an 'error' listener on pools (see docs/postgres.md). */
function proxiedPool(port: number): pg.Pool {
  const pool = testPool({ port, connectionTimeoutMillis: 1000 })
  pool.on('error', () => {})
  return pool
}

/** Every store operation, each expected to fail with a store error within the timeout. */
const operations: Array<[string, (store: SessionStore) => Promise<unknown>]> = [
  ['get', (s) => s.get(key(), 'f')],
  ['getAll', (s) => s.getAll(key())],
  ['write', (s) => s.write(key(), 'f', new Uint8Array([1]), create)],
  ['remove', (s) => s.remove(key(), 'f')],
  ['delete', (s) => s.delete(key())],
  ['expire', (s) => s.expire(key(), 10)],
  ['rename', (s) => s.rename(key(), key())],
]

async function failsFast(work: () => Promise<unknown>, code: string): Promise<void> {
  const started = performance.now()
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SessionStoreError)
  expect(error).toMatchObject({ code, status: 503 })
  expect(performance.now() - started).toBeLessThan(TIMEOUT + SLACK)
}

describe.skipIf(skipReason !== undefined)(`PostgresStore failures${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('fails to start with a SessionStoreError when nothing listens on the port', async () => {
    const pool = testPool({ port: await closedPort() })
    await failsFast(() => PostgresStore.create({ pool, timeout: TIMEOUT }), 'ERR_SESSION_STORE')
  })

  it('fails every operation fast with SessionStoreError once the server is gone', async () => {
    if (!postgres.available) return
    const proxy = await startProxy(postgres.host, postgres.port)
    const store = await testStore({ pool: proxiedPool(proxy.port), timeout: TIMEOUT })
    await proxy.down()
    for (const [, operation] of operations) await failsFast(() => operation(store), 'ERR_SESSION_STORE')
    await failsFast(() => store.cleanup(), 'ERR_SESSION_STORE')
  })

  it('times every operation out when the server stops answering (hung connection)', async () => {
    if (!postgres.available) return
    const proxy = await startProxy(postgres.host, postgres.port)
    const store = await testStore({ pool: proxiedPool(proxy.port), timeout: TIMEOUT })
    proxy.setMode('blackhole')
    const results = operations.map(([, operation]) => failsFast(() => operation(store), 'ERR_SESSION_STORE_TIMEOUT'))
    await Promise.all(results)
    await proxy.down()
  })

  it('times out while the table is locked, then works again, with the process still up', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const store = await testStore({ pool, table, timeout: TIMEOUT })
    const k = key()
    await store.write(k, 'f', new Uint8Array([1]), create)
    const locker = await pool.connect()
    try {
      await locker.query(`BEGIN; LOCK TABLE "public"."${table}" IN ACCESS EXCLUSIVE MODE`)
      await failsFast(() => store.get(k, 'f'), 'ERR_SESSION_STORE_TIMEOUT')
    } finally {
      await locker.query('ROLLBACK')
      locker.release()
    }
    expect(await store.get(k, 'f')).toMatchObject({ live: true })
  })

  // pg's default connectionTimeoutMillis (0) waits for a connection as long as it takes; a statement
  // that got one after the store's deadline would run after its request had answered 503.
  it('sends no statement that waited for a connection past the deadline', async () => {
    const pool = testPool({ max: 1, connectionTimeoutMillis: 0 })
    const table = uniqueTable()
    const store = await testStore({ pool, table, timeout: TIMEOUT })
    const k = key()
    const holder = await pool.connect()
    try {
      await failsFast(() => store.write(k, 'f', new Uint8Array([1]), create), 'ERR_SESSION_STORE_TIMEOUT')
    } finally {
      holder.release()
    }
    // The connection is free again: the next call gets it, after the abandoned one would have. Asked
    // through a store on the same pool and table with a generous deadline, so that a loaded CI machine
    // cannot fail the check on time alone; the abandoned write must still not have landed.
    const patient = await testStore({ pool, table, timeout: 10_000 })
    expect(await patient.write(key(), 'f', new Uint8Array([2]), create)).toMatchObject({ status: 'written' })
    expect(await patient.get(k, 'f')).toEqual({ live: false })
  })

  it('answers 503 without Set-Cookie through Express when the database is down or hung', async () => {
    if (!postgres.available) return
    const proxy = await startProxy(postgres.host, postgres.port)
    const store = await testStore({ pool: proxiedPool(proxy.port), timeout: TIMEOUT })
    const layer = new SessionLayer({ store, cookie: { maxAge: 3600 } })
    const sessions = session(layer)
    const app = express()
    app.set('env', 'test')
    app.use(sessions)
    app.get(
      '/count',
      sessions.route(async (req, res) => {
        const count = Number((await req.session.get('count')) ?? 0) + 1
        await req.session.update('count', count)
        res.json({ count })
      }),
    )
    const server = await listen(createServer(app))
    try {
      const client = new CookieClient(server.url)
      expect((await client.request('/count')).json).toEqual({ count: 1 })
      expect((await client.request('/count')).json).toEqual({ count: 2 })
      for (const step of ['blackhole', 'down'] as const) {
        if (step === 'blackhole') proxy.setMode('blackhole')
        else await proxy.down()
        const started = performance.now()
        const failed = await client.request('/count')
        expect(failed.status).toBe(503)
        expect(failed.setCookies).toEqual([])
        expect(performance.now() - started).toBeLessThan(TIMEOUT + SLACK)
      }
      // The process and the server are still up: a request without a cookie that needs no store
      // call is still served (404 from Express, not a crash).
      expect((await client.request('/nothing', [])).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
