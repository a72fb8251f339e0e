import type pg from 'pg'
import { describe, expect, it, vi } from 'vitest'
import type { BindOptions, SessionStore, WriteOptions } from '../../src/core/store.js'
import { bytes, newKey, sleep } from '../../src/testing/values.js'
import { skipReason, testPool, testStore, uniqueTable } from './helpers.js'

// SPEC §13's races on a real PostgreSQL (READ COMMITTED, the default): binds racing a revocation,
// `maxSessions` under concurrent logins, and a write blocked on a session's row while it is revoked.
const HOUR = 3600
const create: WriteOptions = { mode: 'update', session: 'create', fieldTtl: HOUR, sessionTtl: HOUR }
const update: WriteOptions = { ...create, session: 'existing' }
const bindFrom = (from: string, subject: string, extra: Partial<BindOptions> = {}): BindOptions => ({
  session: 'existing',
  renameFrom: from,
  subject,
  meta: '{}',
  sessionTtl: HOUR,
  ...extra,
})
const subjectName = (): string => `user:${newKey().slice(0, 8)}`
const jitter = (ms: number): Promise<void> => sleep(Math.random() * ms)

// Few connections: other test files share the server's connection limit. The revoking and the
// writing process get pools of their own, named so that the tests can see when each waits for a lock.
const run = newKey().slice(0, 8)
let pools: { shared: pg.Pool; observer: pg.Pool; revoke: pg.Pool; write: pg.Pool } | undefined
const poolsOnce = () => {
  pools ??= {
    shared: testPool({ max: 10 }),
    observer: testPool({ max: 2 }),
    revoke: testPool({ max: 2, application_name: `ruts-revoke-${run}` }),
    write: testPool({ max: 2, application_name: `ruts-write-${run}` }),
  }
  return pools
}

/** Resolves once a backend of the pool named `application` waits for a lock, or `call` settled. */
async function waitingOnLock(observer: pg.Pool, application: string, call: Promise<unknown>): Promise<void> {
  let settled = false
  void call.then(
    () => (settled = true),
    () => (settled = true),
  )
  await vi.waitFor(
    async () => {
      const { rows } = await observer.query(
        `SELECT 1 FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
        [`${application}-${run}`],
      )
      expect(settled || rows.length === 1).toBe(true)
    },
    { timeout: 5_000, interval: 20 },
  )
}

/** Two stores on one table (a revoking and a writing process) and a bound session with fields f, g. */
async function revocationScene() {
  const table = uniqueTable()
  const { observer, revoke, write } = poolsOnce()
  const revoker = await testStore({ table, pool: revoke })
  const writer = await testStore({ table, pool: write })
  const subject = subjectName()
  const from = newKey()
  await writer.write(from, 'f', bytes('v'), create)
  await writer.write(from, 'g', bytes('v'), update)
  const key = newKey()
  await writer.bind(key, bindFrom(from, subject))
  return { table, observer, revoker, writer, key, subject }
}

/** The revoked session is gone from every view: store, subject list and the fields table. */
async function expectGone(table: string, observer: pg.Pool, store: SessionStore, key: string, subject: string) {
  expect(await store.getAll(key)).toEqual({ live: false })
  expect(await store.listSubject?.(subject)).toEqual([])
  const { rows } = await observer.query(`SELECT count(*)::int AS n FROM "public"."${table}"`)
  expect(rows[0]).toEqual({ n: 0 })
  const fields = await observer.query(`SELECT count(*)::int AS n FROM "public"."${table}_fields"`)
  expect(fields.rows[0]).toEqual({ n: 0 })
}

describe.skipIf(skipReason !== undefined)(`PostgresStore subject races${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('binds racing revocations: every session bound to the subject ends up ended or listed', async () => {
    const store = await testStore({ pool: poolsOnce().shared })
    const subject = subjectName()
    const sessions = Array.from({ length: 60 }, () => newKey())
    await Promise.all(sessions.map((key) => store.write(key, 'f', bytes('v'), create)))
    const revoked: string[] = []
    const binds = sessions.map(async (from) => {
      await jitter(150)
      const to = newKey()
      const result = await store.bind(to, bindFrom(from, subject))
      expect(result.status).toBe('bound')
      return to
    })
    const revocations = [20, 70, 120].map(async (at) => {
      await sleep(at)
      revoked.push(...(await store.revokeSubject(subject, {})))
    })
    const bound = await Promise.all(binds)
    await Promise.all(revocations)
    const listed = new Set((await store.listSubject(subject)).map((each) => each.key))
    for (const key of bound) {
      const live = (await store.getAll(key)).live
      // Never alive and unlisted; a key the revocations reported is dead.
      expect({ key, live, listed: listed.has(key) }).toEqual({ key, live: listed.has(key), listed: listed.has(key) })
    }
    for (const key of revoked) expect(await store.getAll(key)).toEqual({ live: false })
    expect(revoked.length + listed.size).toBe(sessions.length)
    // The race did happen: some binds landed before a revocation, some after the last one.
    expect(revoked.length).toBeGreaterThan(0)
  })

  it('a maxSessions login waits for the subject before locking any row (no deadlock on expired rows)', async () => {
    // A bind holding the subject's lock locks the subject's rows; one whose clock saw a row expire
    // pruned (locked) it and then waited for the subject: each waited for the other. Here the first
    // bind is stood in for by a transaction holding the subject's lock (through the revoke function,
    // which takes it) that then locks the expired row.
    const table = uniqueTable()
    const { observer, revoke, shared } = poolsOnce()
    const store = await testStore({ table, pool: shared })
    const subject = subjectName()
    const expired = newKey()
    await store.bind(expired, { session: 'create', subject, meta: '{}', sessionTtl: HOUR })
    await observer.query(`UPDATE "public"."${table}" SET expires_at = now() - interval '1 second' WHERE key = $1`, [
      expired,
    ])
    const holder = await revoke.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT * FROM "public"."${table}_revoke_subject"($1, ARRAY['none'], NULL)`, [subject])
      const login = store.bind(newKey(), { session: 'create', subject, meta: '{}', sessionTtl: HOUR, maxSessions: 2 })
      // Let the login reach the subject's lock (and, before the fix, lock the expired row first).
      await sleep(300)
      // The first bind's victims query reaches the expired row: it must not find it held.
      await holder.query("SET LOCAL lock_timeout = '2s'")
      await holder.query(`SELECT 1 FROM "public"."${table}" WHERE key = $1 FOR UPDATE`, [expired])
      await holder.query('COMMIT')
      expect(await login).toMatchObject({ status: 'bound' })
    } finally {
      holder.release()
    }
  })

  it('maxSessions holds under 30 concurrent logins of one subject', async () => {
    const store = await testStore({ pool: poolsOnce().shared })
    const subject = subjectName()
    const sessions = Array.from({ length: 30 }, () => newKey())
    await Promise.all(sessions.map((key) => store.write(key, 'f', bytes('v'), create)))
    const results = await Promise.all(
      sessions.map((from) => store.bind(newKey(), bindFrom(from, subject, { maxSessions: 3 }))),
    )
    const ended = results.flatMap((result) => (result.status === 'bound' ? result.ended : []))
    const listed = await store.listSubject(subject)
    expect(listed).toHaveLength(3)
    expect(ended).toHaveLength(27)
    expect(new Set(ended).size).toBe(27)
  })

  it('a write in flight when the session is revoked does not bring it back', async () => {
    const { table, observer, revoker, writer, key, subject } = await revocationScene()
    // Hold the row of field g, so that a write of g stops in the middle of its statement: past its
    // check that the session is live, before it extends the session.
    const holder = await observer.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(
        `SELECT 1 FROM "public"."${table}_fields"
         WHERE session_id = (SELECT id FROM "public"."${table}" WHERE key = $1) AND field = 'g' FOR UPDATE`,
        [key],
      )
      const write = writer.write(key, 'g', bytes('late'), update)
      await waitingOnLock(observer, 'ruts-write', write)
      // The revocation waits for the write's lock on the session row (a DELETE conflicts with it).
      const revocation = revoker.revokeSubject(subject, {})
      await waitingOnLock(observer, 'ruts-revoke', revocation)
      await holder.query('COMMIT')
      expect(await write).toMatchObject({ status: 'written' })
      expect(await revocation).toEqual([key])
    } finally {
      holder.release()
    }
    await expectGone(table, observer, writer, key, subject)
  })

  it('a write that arrives while the session is being revoked does not bring it back', async () => {
    const { table, observer, revoker, writer, key, subject } = await revocationScene()
    // A third party (another writer, a refresh) holds the session row as a write's UPDATE does, so
    // that the revocation and then the write queue behind it.
    const holder = await observer.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM "public"."${table}" WHERE key = $1 FOR NO KEY UPDATE`, [key])
      const revocation = revoker.revokeSubject(subject, {})
      await waitingOnLock(observer, 'ruts-revoke', revocation)
      const write = writer.write(key, 'g', bytes('late'), update)
      await waitingOnLock(observer, 'ruts-write', write)
      await holder.query('COMMIT')
      expect(await revocation).toEqual([key])
      // Whether the write got the row first or found it gone, it does not re-create it.
      expect(['written', 'missing']).toContain((await write).status)
    } finally {
      holder.release()
    }
    await expectGone(table, observer, writer, key, subject)
  })

  it('revocations and writes on the same sessions never deadlock or fail', async () => {
    const store = await testStore({ pool: poolsOnce().shared })
    const subject = subjectName()
    const keys: string[] = []
    for (let round = 0; round < 3; round++) {
      const sessions = Array.from({ length: 10 }, () => newKey())
      await Promise.all(sessions.map((key) => store.write(key, 'f', bytes('v'), create)))
      const bound = await Promise.all(
        sessions.map(async (from) => {
          const to = newKey()
          await store.bind(to, bindFrom(from, subject))
          return to
        }),
      )
      keys.push(...bound)
      const writes = bound.flatMap((key) =>
        Array.from({ length: 5 }, async (_, index) => {
          await jitter(30)
          return store.write(key, `w${index}`, bytes('x'), update)
        }),
      )
      const revocation = (async () => {
        await jitter(30)
        return store.revokeSubject(subject, {})
      })()
      const results = await Promise.all(writes)
      expect(results.every((result) => result.status === 'written' || result.status === 'missing')).toBe(true)
      expect((await revocation).sort()).toEqual([...bound].sort())
    }
    for (const key of keys) expect(await store.getAll(key)).toEqual({ live: false })
  })
})
