import { describe, expect, it } from 'vitest'
import type { WriteOptions } from '../../src/core/store.js'
import { PostgresStore } from '../../src/stores/postgres/index.js'
import { bytes, newKey, text } from '../../src/testing/values.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { countStatements, skipReason, testPool, testStore, timeZones, uniqueTable, zonedPool } from './helpers.js'

const HOUR = 3600
const create = writeOptionsFor('create', HOUR)
const update: WriteOptions = { mode: 'update', session: 'existing', fieldTtl: HOUR, sessionTtl: HOUR }

describe.skipIf(skipReason !== undefined)(`PostgresStore specifics${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('keeps all 20 concurrent writes to different fields of one session', async () => {
    const pool = testPool()
    const store = await testStore({ pool })
    const key = newKey()
    await store.write(key, 'seed', bytes('0'), create)
    const fields = Array.from({ length: 20 }, (_, i) => `field-${i}`)
    const results = await Promise.all(fields.map((field) => store.write(key, field, bytes(field), update)))
    expect(results.every((result) => result.status === 'written')).toBe(true)
    const all = await store.getAll(key)
    expect(all.live && [...all.fields.keys()].sort()).toEqual(['seed', ...fields].sort())
    for (const field of fields) expect(text(all.live ? all.fields.get(field) : undefined)).toBe(field)
  })

  it("reports a field's own remaining lifetime on get, by the database clock", async () => {
    const store = await testStore()
    const key = newKey()
    await store.write(key, 'user', bytes('ada'), create)
    await store.write(key, 'flash', bytes('saved'), { ...update, fieldTtl: 5 })
    for (const options of [undefined, { touch: { ttl: HOUR * 2, threshold: 60 } }]) {
      const read = await store.get(key, 'flash', options)
      expect(read.live && read.fieldTtl).toBeGreaterThan(3_000)
      expect(read.live && read.fieldTtl).toBeLessThanOrEqual(5_000)
    }
    expect(await store.get(key, 'missing')).not.toHaveProperty('fieldTtl')
  })

  it('costs exactly one query per operation, rename-and-write and increment and take included', async () => {
    const pool = testPool()
    const store = await testStore({ pool })
    const queries = countStatements(pool)
    const key = newKey()
    const next = newKey()
    const steps: Array<() => Promise<unknown>> = [
      () => store.write(key, 'a', bytes('1'), create),
      () => store.write(key, 'b', bytes('2'), { ...update, mode: 'insert' }),
      () => store.get(key, 'a', { touch: { ttl: HOUR * 2, threshold: 60 } }),
      () => store.getAll(key),
      () => store.write(next, 'c', bytes('3'), { ...update, renameFrom: key }),
      () => store.increment(next, 'n', { ...update, by: 1, format: 'msgpack' }),
      () => store.increment(next, 'n', { ...update, by: 1, format: 'json' }),
      () => store.increment(newKey(), 'n', { ...create, by: 1, format: 'json' }),
      () => store.take(next, 'c'),
      () => store.remove(next, 'missing'),
      () => store.expire(next, 60),
      () => store.rename(next, key),
      () => store.delete(key),
    ]
    for (const step of steps) {
      const before = queries()
      await step()
      expect(queries() - before).toBe(1)
    }
  })

  it('never lets removing a missing (or expired) field end the session', async () => {
    const store = await testStore()
    const key = newKey()
    await store.write(key, 'keep', bytes('x'), create)
    await store.write(key, 'short', bytes('y'), { ...update, fieldTtl: 1 })
    expect(await store.remove(key, 'never-there')).toMatchObject({ live: true, removed: false })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await store.remove(key, 'short')).toMatchObject({ live: true, removed: false })
    const kept = await store.get(key, 'keep')
    expect(kept.live && text(kept.value)).toBe('x')
  })

  it('stores values byte-exact, including empty values, 1 MiB values and views into a larger buffer', async () => {
    const store = await testStore()
    const key = newKey()
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
    const backing = new Uint8Array(16).fill(7)
    await store.write(key, 'empty', new Uint8Array(0), create)
    await store.write(key, 'big', big, update)
    await store.write(key, 'view', backing.subarray(4, 8), update)
    const all = await store.getAll(key)
    if (!all.live) throw new Error('session lost')
    expect(all.fields.get('empty')).toHaveLength(0)
    expect(Buffer.compare(Buffer.from(all.fields.get('big') ?? []), Buffer.from(big))).toBe(0)
    expect([...(all.fields.get('view') ?? [])]).toEqual([7, 7, 7, 7])
  })

  for (const timeZone of timeZones) {
    it(`reports the remaining lifetime from the database clock (TimeZone=${timeZone})`, async () => {
      const table = uniqueTable()
      const store = await testStore({ pool: zonedPool(timeZone), table })
      const key = newKey()
      expect((await store.write(key, 'a', bytes('1'), { ...create, sessionTtl: 90 })).status).toBe('written')
      const read = await store.get(key, 'a')
      expect(read.live && read.ttl).toBeGreaterThan(85_000)
      expect(read.live && read.ttl).toBeLessThanOrEqual(90_000)
      // The stored expiry is an absolute instant: a connection in another zone sees the same one.
      const other = zonedPool(timeZone === 'UTC' ? 'Pacific/Chatham' : 'UTC')
      const { rows } = await other.query<{ left: number }>(
        `SELECT (extract(epoch FROM expires_at) - extract(epoch FROM now()))::float8 AS left FROM "public"."${table}"`,
      )
      expect(rows[0]?.left).toBeGreaterThan(85)
      expect(rows[0]?.left).toBeLessThanOrEqual(90)
    })
  }

  it('treats an expired field as absent for insert, and overwrites it', async () => {
    const store = await testStore()
    const key = newKey()
    await store.write(key, 'f', bytes('old'), { ...create, fieldTtl: 1 })
    expect((await store.write(key, 'f', bytes('no'), { ...update, mode: 'insert' })).status).toBe('exists')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await store.write(key, 'f', bytes('new'), { ...update, mode: 'insert' })).status).toBe('written')
    const read = await store.get(key, 'f')
    expect(read.live && text(read.value)).toBe('new')
  })

  it('does not resurrect a deleted session through update, insert or renameFrom', async () => {
    const store = await testStore()
    const key = newKey()
    await store.write(key, 'a', bytes('1'), create)
    expect(await store.delete(key)).toBe(true)
    expect((await store.write(key, 'a', bytes('2'), update)).status).toBe('missing')
    expect((await store.write(key, 'a', bytes('2'), { ...update, mode: 'insert' })).status).toBe('missing')
    expect((await store.write(newKey(), 'a', bytes('2'), { ...update, renameFrom: key })).status).toBe('missing')
    expect(await store.getAll(key)).toEqual({ live: false })
  })
})

describe.skipIf(skipReason !== undefined)(
  `PostgresStore prepared statements${skipReason ? ` (${skipReason})` : ''}`,
  () => {
    /** The statements prepared on the pool's one connection by the store (names `ruts_…`). */
    async function preparedOn(pool: ReturnType<typeof testPool>): Promise<string[]> {
      const { rows } = await pool.query<{ name: string }>(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'ruts\\_%' ORDER BY name",
      )
      return rows.map((row) => row.name)
    }

    it('each statement is parsed and planned once per connection, then only bound and run', async () => {
      const pool = testPool({ max: 1 })
      const store = await testStore({ pool })
      const key = newKey()
      await store.write(key, 'n', bytes('1'), create)
      for (let i = 2; i <= 5; i++) await store.write(key, 'n', bytes(String(i)), update)
      const read = await store.get(key, 'n')
      expect(read.live && text(read.value)).toBe('5')
      // create, update and get: three texts, three named statements, however often each ran.
      expect(await preparedOn(pool)).toHaveLength(3)
      const { rows } = await pool.query<{ calls: number }>(
        'SELECT (generic_plans + custom_plans)::int AS calls FROM pg_prepared_statements WHERE name LIKE $1 ORDER BY 1 DESC',
        ['ruts\\_%'],
      )
      // The update ran four times through one prepared statement.
      expect(rows[0]?.calls).toBe(4)
    })

    it('prepare: false sends every statement unnamed, for poolers that cannot keep them', async () => {
      const pool = testPool({ max: 1 })
      const store = await testStore({ pool, prepare: false })
      const key = newKey()
      await store.write(key, 'n', bytes('1'), create)
      await store.write(key, 'n', bytes('2'), update)
      const read = await store.get(key, 'n')
      expect(read.live && text(read.value)).toBe('2')
      expect(await preparedOn(pool)).toEqual([])
    })

    // What a pooler that does not keep prepared statements does to a connection, done by hand on a real
    // server: the statements vanish under pg (DEALLOCATE ALL, as DISCARD ALL or another server
    // connection in transaction mode), or a name is already taken on a connection pg has not used.
    it('statements that vanish under pg: the call is sent again unnamed, and the store stays unnamed', async () => {
      const pool = testPool({ max: 1 })
      const store = await testStore({ pool })
      const key = newKey()
      await store.write(key, 'n', bytes('1'), create)
      await store.write(key, 'n', bytes('2'), update)
      expect(await preparedOn(pool)).toHaveLength(2)
      await pool.query('DEALLOCATE ALL')
      // pg still believes `update` is prepared on this connection: PostgreSQL answers 26000.
      expect((await store.write(key, 'n', bytes('3'), update)).status).toBe('written')
      const read = await store.get(key, 'n')
      expect(read.live && text(read.value)).toBe('3')
      expect(await preparedOn(pool)).toEqual([])
    })

    it('a name already taken on the connection: the call is sent again unnamed', async () => {
      const table = uniqueTable()
      // The first store prepares its create statement; its name is read back from the server.
      const first = testPool({ max: 1 })
      await (await testStore({ pool: first, table })).write(newKey(), 'n', bytes('1'), create)
      const [name] = await preparedOn(first)
      expect(name).toMatch(/^ruts_/)
      // Another connection holds that name already, for a different statement: PostgreSQL answers 42P05.
      const second = testPool({ max: 1 })
      await second.query(`PREPARE "${name}" AS SELECT 1`)
      const store = await testStore({ pool: second, table })
      const key = newKey()
      expect((await store.write(key, 'n', bytes('x'), create)).status).toBe('written')
      const read = await store.get(key, 'n')
      expect(read.live && text(read.value)).toBe('x')
    })

    it('two stores on two tables of one pool never share a statement name', async () => {
      const pool = testPool({ max: 1 })
      const first = await testStore({ pool, table: uniqueTable() })
      const second = await testStore({ pool, table: uniqueTable() })
      const key = newKey()
      await first.write(key, 'n', bytes('first'), create)
      await second.write(key, 'n', bytes('second'), create)
      const [a, b] = [await first.get(key, 'n'), await second.get(key, 'n')]
      expect([a.live && text(a.value), b.live && text(b.value)]).toEqual(['first', 'second'])
      expect(await preparedOn(pool)).toHaveLength(4)
    })
  },
)

describe('PostgresStore construction', () => {
  it('says how to build it when called with new (from JavaScript)', () => {
    const Store = PostgresStore as unknown as new (options: object) => unknown
    expect(() => new Store({ pool: {} })).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
  })
})
