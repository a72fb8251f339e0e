import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SessionConfigError } from '../../src/core/errors.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { advisoryLockKeys, tableNames } from '../../src/stores/postgres/identifiers.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { migrate, SCHEMA_VERSION } from '../../src/stores/postgres/migrations.js'
import { skipReason, testPool, uniqueTable } from './helpers.js'

const suffix = (): string => randomBytes(3).toString('hex')

async function roundTrip(store: PostgresStore): Promise<void> {
  const key = sessionKeyOf(createSessionId())
  const write = { mode: 'update', session: 'create', fieldTtl: 60, sessionTtl: 60 } as const
  expect((await store.write(key, 'f', new Uint8Array([42]), write)).status).toBe('written')
  const read = await store.get(key, 'f')
  expect(read.live && [...(read.value ?? [])]).toEqual([42])
}

describe.skipIf(skipReason !== undefined)(`PostgresStore migrations${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('applies each version once and records it; running again applies nothing', async () => {
    const pool = testPool()
    const names = tableNames(`schema_${suffix()}`, uniqueTable())
    const lock = advisoryLockKeys(names).migration
    expect(await migrate(pool, names, lock)).toEqual([1, 2, 3, 4])
    expect(await migrate(pool, names, lock)).toEqual([])
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${names.versions} ORDER BY version`)
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4])
    expect(SCHEMA_VERSION).toBe(4)
  })

  it('upgrades a version 3 schema: bind gets the function that locks the subject before pruning', async () => {
    const pool = testPool()
    const names = tableNames(`bind_${suffix()}`, uniqueTable())
    const lock = advisoryLockKeys(names).migration
    expect(await migrate(pool, names, lock, 3)).toEqual([1, 2, 3])
    // Stand-in for version 3's body, which pruned first: version 4 must replace whatever is there.
    await pool.query(
      `CREATE OR REPLACE FUNCTION ${names.bindSubject}(p_key text, p_from text, p_subject text, p_meta text,
        p_ttl float8, p_max_lifetime float8, p_max_sessions int)
      RETURNS TABLE (status text, ttl float8, touched boolean, ended text[])
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'version 3 body'; END $$`,
    )
    expect(await migrate(pool, names, lock)).toEqual([4])
    const store = await PostgresStore.create({
      pool,
      schema: names.raw.schema,
      table: names.raw.table,
      cleanupInterval: 0,
    })
    const key = sessionKeyOf(createSessionId())
    const options = { session: 'create', subject: 'user:1', meta: '{}', sessionTtl: 60, maxSessions: 2 } as const
    expect(await store.bind(key, options)).toMatchObject({ status: 'bound' })
  })

  it('upgrades a version 2 schema in place: its sessions stay, unbound, and can be bound and listed', async () => {
    const pool = testPool()
    const names = tableNames(`upgrade_${suffix()}`, uniqueTable())
    const lock = advisoryLockKeys(names).migration
    expect(await migrate(pool, names, lock, 2)).toEqual([1, 2])
    // A session as version 2 wrote it: no subject, meta, or activity columns.
    const key = sessionKeyOf(createSessionId())
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO ${names.sessions} (key, expires_at) VALUES ($1, now() + interval '1 hour') RETURNING id`,
      [key],
    )
    await pool.query(
      `INSERT INTO ${names.fields} (session_id, field, value, expires_at) VALUES ($1, 'f', '\x2a', now() + interval '1 hour')`,
      [rows[0]?.id],
    )
    const before = Date.now()
    const store = await PostgresStore.create({
      pool,
      schema: names.raw.schema,
      table: names.raw.table,
      cleanupInterval: 0,
    })
    const read = await store.get(key, 'f')
    expect(read.live && [...(read.value ?? [])]).toEqual([42])
    expect(await store.subjectOf(key)).toMatchObject({ live: true, subject: undefined, meta: undefined })
    const next = sessionKeyOf(createSessionId())
    const options = { session: 'existing', renameFrom: key, subject: 'user:1', meta: '{}', sessionTtl: 60 } as const
    expect(await store.bind(next, options)).toMatchObject({ status: 'bound' })
    const [listed] = await store.listSubject('user:1')
    expect(listed?.key).toBe(next)
    // Rows older than the upgrade count as created at the upgrade.
    expect(listed?.createdAt).toBeGreaterThan(before - 5_000)
    expect(listed?.createdAt).toBeLessThanOrEqual(Date.now())
    expect(await migrate(pool, names, lock)).toEqual([])
  })

  it('migrates once when several processes start at the same moment', async () => {
    const schema = `concurrent_${suffix()}`
    const table = uniqueTable()
    // Separate pools: each start is its own client, as separate processes would be.
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => PostgresStore.create({ pool: testPool(), schema, table, cleanupInterval: 0 })),
    )
    const { rows } = await testPool().query(`SELECT version FROM "${schema}"."${table}_schema_version"`)
    expect(rows).toHaveLength(SCHEMA_VERSION)
    for (const store of stores) await roundTrip(store)
  })

  it('quotes schema and table names with quotes, spaces, capitals, dots and SQL in them', async () => {
    const pool = testPool()
    const schema = `My "odd" schema.${suffix()}`
    const table = `Sess'ions"; DROP $ruts$ TABLE x; --${suffix()}`
    const store = await PostgresStore.create({ pool, schema, table, cleanupInterval: 0 })
    await roundTrip(store)
    const { rows } = await pool.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
      [schema],
    )
    expect(rows.map((row) => row.relname)).toEqual([table, `${table}_fields`, `${table}_schema_version`])
    expect(await store.cleanup()).toMatchObject({ skipped: false })
    // The subject functions name the tables in their bodies: they must work with these names too.
    const bound = await store.bind(sessionKeyOf(createSessionId()), {
      session: 'create',
      subject: 'user:$ruts$',
      meta: '{}',
      sessionTtl: 60,
    })
    expect(bound).toMatchObject({ status: 'bound' })
    expect(await store.revokeSubject('user:$ruts$', {})).toHaveLength(1)
  })

  it('starts (migrate on) with a runtime role that may not CREATE in the schema, once the schema is current', async () => {
    const admin = testPool()
    const schema = `runtime_${suffix()}`
    const table = uniqueTable()
    const names = tableNames(schema, table)
    expect(await migrate(admin, names, advisoryLockKeys(names).migration)).toEqual([1, 2, 3, 4])
    // The grants docs/postgres.md lists for a role that cannot create tables; nothing more.
    const role = `ruts_runtime_${suffix()}`
    await admin.query(`CREATE ROLE ${role} LOGIN`)
    try {
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
      await admin.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ${names.sessions}, ${names.fields}, ${names.versions} TO ${role}`,
      )
      const runtime = testPool({ user: role })
      await roundTrip(await PostgresStore.create({ pool: runtime, schema, table, cleanupInterval: 0 }))
    } finally {
      await admin.query(`DROP OWNED BY ${role}`)
      await admin.query(`DROP ROLE ${role}`)
    }
  })

  it('with migrate: false, starts on a current schema and refuses a missing one', async () => {
    const pool = testPool()
    const table = uniqueTable()
    await expect(PostgresStore.create({ pool, table, migrate: false })).rejects.toMatchObject({
      code: 'ERR_SESSION_CONFIG',
    })
    await PostgresStore.create({ pool, table, cleanupInterval: 0 })
    await roundTrip(await PostgresStore.create({ pool, table, migrate: false, cleanupInterval: 0 }))
  })

  it('refuses a schema written by a newer version of ruts', async () => {
    const pool = testPool()
    const table = uniqueTable()
    await PostgresStore.create({ pool, table, cleanupInterval: 0 })
    await pool.query(`INSERT INTO "public"."${table}_schema_version" (version, description) VALUES (999, 'future')`)
    await expect(PostgresStore.create({ pool, table, cleanupInterval: 0 })).rejects.toBeInstanceOf(SessionConfigError)
  })

  it('rejects names the server would truncate or cannot store, before touching the database', async () => {
    const pool = testPool()
    for (const options of [{ table: '' }, { table: 'a\0b' }, { table: 'x'.repeat(49) }, { schema: 'é'.repeat(32) }]) {
      await expect(PostgresStore.create({ pool, ...options })).rejects.toBeInstanceOf(SessionConfigError)
    }
    expect(pool.totalCount).toBe(0)
  })
})
