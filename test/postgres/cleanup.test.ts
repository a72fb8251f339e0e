import { describe, expect, it } from 'vitest'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { advisoryLockKeys, tableNames } from '../../src/stores/postgres/identifiers.js'
import type { PostgresStore } from '../../src/stores/postgres/index.js'
import { sleep } from '../../src/testing/values.js'
import { skipReason, testPool, testStore, uniqueTable } from './helpers.js'

/** Seed sessions straight into the table, expiring `offsets` seconds from the database's now. */
async function seed(pool: ReturnType<typeof testPool>, table: string, offsets: number[]): Promise<string[]> {
  const keys = offsets.map(() => sessionKeyOf(createSessionId()))
  await pool.query(
    `WITH s AS (
       INSERT INTO "public"."${table}" (key, expires_at)
       SELECT k, now() + make_interval(secs => o) FROM unnest($1::text[], $2::float8[]) AS t(k, o)
       RETURNING id, expires_at
     )
     INSERT INTO "public"."${table}_fields" (session_id, field, value, expires_at)
     SELECT id, 'f', '\\x00', expires_at FROM s`,
    [keys, offsets],
  )
  return keys
}

async function liveKeys(pool: ReturnType<typeof testPool>, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "public"."${table}"`)
  return rows[0]?.n ?? -1
}

describe.skipIf(skipReason !== undefined)(`PostgresStore cleanup${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('deletes only what expired just before now, and keeps what expires just after', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const store = await testStore({ pool, table })
    // A live session with one expired and one live field: only the expired field goes.
    const key = sessionKeyOf(createSessionId())
    const write = { mode: 'update', session: 'create', fieldTtl: 1, sessionTtl: 60 } as const
    await store.write(key, 'short', new Uint8Array([1]), write)
    await store.write(key, 'long', new Uint8Array([2]), { ...write, session: 'existing', fieldTtl: 60 })
    await sleep(1100)
    // Seeded by the database clock right before the run: half a second either side of now.
    const expired = await seed(pool, table, [-2, -0.5])
    const alive = await seed(pool, table, [0.5, 2])
    // Fields are counted when deleted on their own (here the seeded ones and 'short'), not when
    // they go with their session by cascade.
    expect(await store.cleanup()).toEqual({ skipped: false, sessions: 2, fields: 3 })
    const { rows } = await pool.query<{ key: string }>(`SELECT key FROM "public"."${table}"`)
    const left = rows.map((row) => row.key)
    for (const k of expired) expect(left).not.toContain(k)
    for (const k of [...alive, key]) expect(left).toContain(k)
    const fields = await pool.query(`SELECT 1 FROM "public"."${table}_fields"`)
    expect(fields.rowCount).toBe(alive.length + 1)
    expect(await store.get(key, 'long')).toMatchObject({ live: true })
  })

  it('works in bounded batches until nothing expired is left', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const store = await testStore({ pool, table, cleanupBatchSize: 7 })
    await seed(
      pool,
      table,
      Array.from({ length: 50 }, () => -1),
    )
    const result = await store.cleanup()
    expect(result).toMatchObject({ skipped: false, sessions: 50 })
    expect(await liveKeys(pool, table)).toBe(0)
  })

  it('skips while another instance holds the cleanup lock, then runs', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const store = await testStore({ pool, table })
    await seed(pool, table, [-1, -1])
    const [classId, objectId] = advisoryLockKeys(tableNames('public', table)).cleanup
    const other = await pool.connect()
    try {
      await other.query('SELECT pg_advisory_lock($1, $2)', [classId, objectId])
      expect(await store.cleanup()).toEqual({ skipped: true, sessions: 0, fields: 0 })
      expect(await liveKeys(pool, table)).toBe(2)
    } finally {
      await other.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId])
      other.release()
    }
    expect(await store.cleanup()).toMatchObject({ skipped: false, sessions: 2 })
  })

  it('lets only one of two stores on the same tables clean at a time', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const first = await testStore({ pool, table, cleanupBatchSize: 1 })
    const second = await testStore({ pool, table, cleanupBatchSize: 1 })
    // Each deleted row waits for a gate lock the test holds, so the first store stays inside its
    // batch (holding the cleanup lock) for exactly as long as the test wants.
    const gate = 1 + Math.floor(Math.random() * 1e9)
    await pool.query(`
      CREATE FUNCTION "public"."${table}_gate"() RETURNS trigger LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_advisory_xact_lock(${gate}); RETURN OLD; END $$;
      CREATE TRIGGER gate BEFORE DELETE ON "public"."${table}" FOR EACH ROW EXECUTE FUNCTION "public"."${table}_gate"()`)
    await seed(pool, table, [-1, -1])
    const holder = await pool.connect()
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [gate])
      const running = first.cleanup()
      const waiting = `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND objid = ($1::bigint & 4294967295)::oid`
      await expect.poll(async () => (await pool.query(waiting, [gate])).rows[0].n, { timeout: 10_000 }).toBe(1)
      expect(await second.cleanup()).toEqual({ skipped: true, sessions: 0, fields: 0 })
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [gate])
      expect(await running).toMatchObject({ skipped: false, sessions: 2 })
    } finally {
      holder.release()
    }
    expect(await liveKeys(pool, table)).toBe(0)
  })

  it('runs on its jittered timer, reports failures through onError, and stops on close()', async () => {
    const pool = testPool()
    const table = uniqueTable()
    const errors: unknown[] = []
    const store: PostgresStore = await testStore({ pool, table, cleanupInterval: 40, onError: (e) => errors.push(e) })
    await seed(pool, table, [-1])
    await expect.poll(() => liveKeys(pool, table), { timeout: 2000 }).toBe(0)
    // Break the tables under the running timer: the next runs fail and the failure is reported.
    await pool.query(`ALTER TABLE "public"."${table}_fields" RENAME TO "${table}_moved"`)
    await expect.poll(() => errors.length, { timeout: 2000 }).toBeGreaterThan(0)
    expect(errors[0]).toMatchObject({ code: 'ERR_SESSION_STORE' })
    await pool.query(`ALTER TABLE "public"."${table}_moved" RENAME TO "${table}_fields"`)
    await store.close()
    await seed(pool, table, [-1])
    await sleep(200)
    expect(await liveKeys(pool, table)).toBe(1)
  })
})
