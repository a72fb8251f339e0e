import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import { SessionLayer } from '../../src/core/layer.js'
import { LayeredStore } from '../../src/stores/layered/index.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import { suiteHandler } from '../../src/testing/adapter-routes.js'
import type { RunningServer } from '../../src/testing/adapter-suite.js'
import { type CountingStore, countingStore } from '../../src/testing/counting-store.js'
import { CookieClient } from '../../src/testing/http-client.js'
import { expressHarness } from '../helpers/express-harness.js'
import { skipReason as postgresSkip, testPool, testStore } from '../postgres/helpers.js'
import { skipReason as redisSkip, storeFor, uniquePrefix } from '../redis/clients.js'
import { cli, type RedisProcess, startRedis } from '../redis/server.js'
import { sleep } from './helpers.js'

// Redis over Postgres behind Express, with the hot Redis paused (CLIENT PAUSE from another
// connection) and killed mid-run. The Redis server is this file's own: pausing or killing the
// run's shared test server would break other files running in parallel.
const HOT_TIMEOUT = 200

describe.skipIf(postgresSkip ?? redisSkip)('LayeredStore (Redis over Postgres) while Redis pauses or dies', () => {
  let redis: RedisProcess
  let client: Redis
  let server: RunningServer
  let hot: CountingStore
  let plainHot: RedisStore
  const failures: string[] = []

  beforeAll(async () => {
    redis = await startRedis()
    // No offline queue: while Redis is down a command fails at once instead of waiting to reconnect.
    client = new Redis({ port: redis.port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await new Promise((resolve) => client.once('ready', resolve))
    const prefix = uniquePrefix()
    plainHot = storeFor(client, { prefix })
    hot = countingStore(storeFor(client, { prefix }))
    const store = new LayeredStore({
      hot,
      cold: await testStore({ pool: testPool({ max: 4, connectionTimeoutMillis: 10_000 }) }),
      hotTimeout: HOT_TIMEOUT,
      repairInterval: 100,
      onError: (error, context) => failures.push(`${context.operation}: ${error.code}`),
    })
    const layer = new SessionLayer({ store, cookie: { maxAge: 3600 } })
    server = await expressHarness(5)(layer as SessionLayer, suiteHandler)
  })
  afterAll(async () => {
    await server?.close()
    client?.disconnect()
    await redis?.stop(true)
  })

  /** A request that must succeed, and quickly: at most a few hot timeouts even while Redis hangs. */
  async function ok(browser: CookieClient, path: string, cookie?: string): Promise<Record<string, unknown>> {
    const started = performance.now()
    const response = await browser.request(path, cookie)
    expect(response.status, `${path} answered ${response.status}: ${response.body}`).toBe(200)
    expect(performance.now() - started).toBeLessThan(4 * HOT_TIMEOUT + 1_000)
    return response.json as Record<string, unknown>
  }

  /** A request that must fail closed (503, no cookie) within a few hot timeouts. */
  async function refused(browser: CookieClient, path: string): Promise<void> {
    const started = performance.now()
    const response = await browser.request(path)
    expect(response.status, `${path} answered ${response.status}: ${response.body}`).toBe(503)
    expect(response.setCookies).toEqual([])
    expect(performance.now() - started).toBeLessThan(4 * HOT_TIMEOUT + 1_000)
  }

  it('keeps answering from Postgres while Redis is paused; logout and regenerate wait for it, then never serve the old id', async () => {
    const browser = new CookieClient(server.url)
    await ok(browser, '/update?field=user&value="ada"')
    const loggedOut = new CookieClient(server.url)
    await ok(loggedOut, '/update?field=user&value="eve"')
    const eveId = loggedOut.value ?? ''
    const oldId = browser.value ?? ''
    expect(await ok(browser, '/get?field=user')).toMatchObject({ value: 'ada' })
    await vi.waitFor(async () => expect((await plainHot.get(sessionKeyOf(oldId), 'user')).live).toBe(true))

    await cli(redis.port, 'CLIENT', 'PAUSE', '2500', 'ALL')
    const pausedAt = Date.now()
    expect(await ok(browser, '/get?field=user')).toMatchObject({ value: 'ada' })
    expect(await ok(browser, '/update?field=count&value=1')).toMatchObject({ ok: true })
    expect(await ok(browser, '/get?field=count')).toMatchObject({ value: 1 })
    // SPEC §10: a logout or regenerate that could not reach hot must not report success (another
    // process would go on serving the old id from hot); it fails closed, having changed nothing.
    await refused(browser, '/regenerate')
    await refused(loggedOut, '/delete')
    expect(Date.now() - pausedAt).toBeLessThan(2_500)
    expect(failures.length).toBeGreaterThan(0)
    expect(await ok(browser, '/get?field=user')).toMatchObject({ value: 'ada', id: oldId })

    await sleep(Math.max(0, 2_700 - (Date.now() - pausedAt)))
    // Redis answers again once it has run what queued on the connection during the pause; a read on
    // the same connection comes back after all of it (on a loaded CI machine that outlasted the
    // 200 ms hot timeout once, and the regenerate below failed closed as if Redis were still paused).
    await plainHot.get(sessionKeyOf(oldId), 'user')
    const regenerated = await ok(browser, '/regenerate')
    expect(regenerated.id).not.toBe(oldId)
    expect(await ok(loggedOut, '/delete')).toMatchObject({ ok: true })
    // Resolved, so hot no longer holds either old copy, for any process.
    expect(await plainHot.get(sessionKeyOf(oldId), 'user')).toEqual({ live: false })
    expect(await plainHot.get(sessionKeyOf(eveId), 'user')).toEqual({ live: false })
    for (const id of [oldId, eveId]) {
      expect(await ok(new CookieClient(server.url), '/get?field=user', `session=${id}`)).toEqual({
        value: null,
        id: null,
      })
    }
    expect(await ok(browser, '/get?field=user')).toMatchObject({ value: 'ada', id: regenerated.id })
  })

  it('keeps answering from Postgres when Redis is killed mid-run, and uses Redis again once it is back', async () => {
    const browser = new CookieClient(server.url)
    await ok(browser, '/update?field=n&value=0')
    for (let n = 1; n <= 20; n++) {
      if (n === 8) await redis.stop(true)
      expect(await ok(browser, `/update?field=n&value=${n}`)).toMatchObject({ ok: true })
      expect(await ok(browser, '/get?field=n')).toMatchObject({ value: n })
    }
    const id = browser.value ?? ''
    // Regenerate needs hot's word that the old id's copy is gone: refused, nothing changed.
    await refused(browser, '/regenerate')
    expect(await ok(browser, '/get?field=n')).toMatchObject({ value: 20, id })

    redis = await startRedis({ port: redis.port, dir: redis.dir })
    await vi.waitFor(() => expect(client.status).toBe('ready'), { timeout: 10_000 })
    await vi.waitFor(async () => expect(await ok(browser, '/regenerate')).toMatchObject({ id: expect.any(String) }), {
      timeout: 10_000,
      interval: 200,
    })
    expect(await ok(new CookieClient(server.url), '/get?field=n', `session=${id}`)).toEqual({ value: null, id: null })
    // Once hot confirms the repairs, reads warm it and are then served from it.
    await vi.waitFor(
      async () => {
        expect(await ok(browser, '/get?field=n')).toMatchObject({ value: 20 })
        hot.reset()
        expect(await ok(browser, '/get?field=n', `session=${browser.value}`)).toMatchObject({ value: 20 })
        expect(hot.calls.get).toBe(1)
        expect((await plainHot.get(sessionKeyOf(browser.value ?? ''), 'n')).live).toBe(true)
      },
      { timeout: 10_000, interval: 200 },
    )
  })
})
