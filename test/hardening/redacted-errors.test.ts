import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedactedBackendError, SessionStoreError } from '../../src/core/errors.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import type { SessionStore, WriteOptions } from '../../src/core/store.js'
import { RedisStore } from '../../src/stores/redis/index.js'
import { skipReason as postgresSkip, testPool, testStore, uniqueTable } from '../postgres/helpers.js'
import { skipReason as redisSkip } from '../redis/clients.js'
import { cli, type RedisProcess, startRedis, stopAll } from '../redis/server.js'

// SPEC §10: a backend error whose object carries the command's arguments must not reach a
// SessionStoreError's cause. The review saw an ioredis ReplyError (NOREPLICAS) whose command.args
// held `{ accessToken: 'ya29…' }`, printed by Hono's default onError.
const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl: 60, sessionTtl: 60 }

/** What a write of a token-bearing value fails with, and everything an error handler could print. */
async function failedWrite(store: SessionStore): Promise<{ error: SessionStoreError; shown: string; token: string }> {
  const token = `ya29.${createSessionId()}${createSessionId()}`
  const value = new TextEncoder().encode(JSON.stringify({ accessToken: token }))
  const error = await store.write(sessionKeyOf(createSessionId()), 'auth', value, create).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(SessionStoreError)
  expect((error as SessionStoreError).cause).toBeInstanceOf(RedactedBackendError)
  const shown = `${inspect(error, { depth: 20, showHidden: true })}\n${JSON.stringify(error)}`
  return { error: error as SessionStoreError, shown, token }
}

function expectRedacted(shown: string, token: string): void {
  expect(shown).not.toContain(token)
  expect(shown).not.toContain(Buffer.from(token).toString('hex'))
  expect(shown).not.toContain(Buffer.from(token).toString('base64'))
}

describe.skipIf(redisSkip !== undefined)('Redis error replies (NOREPLICAS) reach the caller redacted', () => {
  let server: RedisProcess
  beforeAll(async () => {
    server = await startRedis()
    // No replica will ever connect: every write is refused with a NOREPLICAS error reply.
    await cli(server.port, 'CONFIG', 'SET', 'min-replicas-to-write', '1')
  })
  afterAll(async () => {
    if (server) await stopAll([server])
  })

  it('ioredis: the ReplyError keeps its class name, message and code, not command.args', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 })
    await client.connect()
    try {
      const { error, shown, token } = await failedWrite(new RedisStore({ client }))
      expectRedacted(shown, token)
      expect(error.cause).toMatchObject({ name: 'ReplyError', message: expect.stringMatching(/^NOREPLICAS/) })
      expect(error.cause).not.toHaveProperty('command')
    } finally {
      client.disconnect()
    }
  })

  // node-redis does not hang the command on its ErrorReply today; the redacted copy keeps it so.
  it('node-redis: the ErrorReply keeps its class name and message, nothing else', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port } })
    await client.connect()
    try {
      const { error, shown, token } = await failedWrite(new RedisStore({ client }))
      expectRedacted(shown, token)
      expect(error.cause).toMatchObject({ message: expect.stringMatching(/^NOREPLICAS/) })
    } finally {
      client.destroy()
    }
  })
})

describe.skipIf(postgresSkip !== undefined)('Postgres errors reach the caller redacted', () => {
  it('a CHECK violation keeps its class name, message and SQLSTATE, not the failing row in detail', async () => {
    const pool = testPool({ max: 2 })
    const table = uniqueTable()
    const store = await testStore({ pool, table })
    // Postgres reports the whole failing row, the session value included, in the error's detail.
    await pool.query(`ALTER TABLE "public"."${table}_fields" ADD CONSTRAINT tiny CHECK (octet_length(value) < 4)`)
    const { error, shown, token } = await failedWrite(store)
    expectRedacted(shown, token)
    expect(error.cause).toMatchObject({ name: 'DatabaseError', code: '23514' })
    expect(error.cause).not.toHaveProperty('detail')
    await store.close()
  })
})
