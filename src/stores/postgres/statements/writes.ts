import type { IntegerFormat } from '../../../core/integers.js'
import type { TableNames } from '../identifiers.js'
import { cap, remainingMs, seconds } from './sql.js'

/** Row of every write and rename statement. `ttl` is null unless the session is live afterwards. */
export interface WriteRow {
  status: 'written' | 'exists' | 'missing' | 'collision' | 'renamed' | 'invalid' | 'full'
  ttl: number | null
  touched: boolean
  /** Increments only: the sum, when written. */
  counter?: number | null
}

// Parameters shared by the write statements: $1 key, $2 field, $3 value (an increment: the safe
// integer to add), $4 field TTL (s), $5 session TTL (s); then $6 maxLifetime (create) or
// renameFrom (rename); then maxFields, or NULL for no limit ($6 in a write into an existing
// session, $7 in a rename; a create writes the session's first field, which always fits).

/** What a statement does to the field: write `$3` (always, or only when absent), or add `$3`. */
type FieldChange = { kind: 'update' } | { kind: 'insert' } | { kind: 'increment'; format: IntegerFormat }

/** The status when the field change wrote nothing: insert found the field, or increment refused. */
const unchanged = (change: FieldChange): string => (change.kind === 'increment' ? 'invalid' : 'exists')

/** The counter column of an increment statement (empty for the others). */
const counterColumn = (change: FieldChange): string =>
  change.kind === 'increment' ? ', (SELECT counter FROM ins)::float8 AS counter' : ''

/**
 * Upsert the field into session CTE `target`. In insert mode an existing field blocks the write only
 * while it is live: an expired row is overwritten as if absent. Distinct fields are distinct rows, so
 * concurrent writers of different fields never conflict.
 *
 * An increment adds under the row lock `ON CONFLICT DO UPDATE` takes: a concurrent increment waits
 * and then adds to this one's sum (READ COMMITTED re-reads the conflicting row), so none is lost. A
 * live field keeps its expiry; a stored value that is no safe integer, or a sum beyond the safe
 * range, fails the `WHERE` (NULL), and nothing is written.
 */
function writeField(n: TableNames, change: FieldChange, limited: boolean): string {
  const from = limited ? 'target, room WHERE room.fits' : 'target'
  if (change.kind !== 'increment') {
    return `ins AS (
    INSERT INTO ${n.fields} AS f (session_id, field, value, expires_at)
    SELECT id, $2::text, $3::bytea, now() + ${seconds('$4')} FROM ${from}
    ON CONFLICT (session_id, field) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    ${change.kind === 'insert' ? 'WHERE f.expires_at <= now()' : ''}
    RETURNING 1
  )`
  }
  const format = `'${change.format}'`
  const sum = `${n.decodeInteger}(f.value, ${format}) + $3::bigint`
  return `ins AS (
    INSERT INTO ${n.fields} AS f (session_id, field, value, expires_at)
    SELECT id, $2::text, ${n.encodeInteger}($3::bigint, ${format}), now() + ${seconds('$4')} FROM ${from}
    ON CONFLICT (session_id, field) DO UPDATE SET
      value = CASE WHEN f.expires_at <= now() THEN excluded.value ELSE ${n.encodeInteger}(${sum}, ${format}) END,
      expires_at = CASE WHEN f.expires_at <= now() THEN excluded.expires_at ELSE f.expires_at END
    WHERE f.expires_at <= now() OR abs(${sum}) <= ${Number.MAX_SAFE_INTEGER}
    RETURNING ${n.decodeInteger}(f.value, ${format}) AS counter
  )`
}

/**
 * CTE `room`: whether the write may go ahead under the field limit `limitParam` (NULL: no limit).
 * The field counting is skipped unless the write would add a field (no live row for it), and
 * then stops at the limit, so it costs at most `maxFields` index entries and only for a new field.
 * `CASE` evaluates its branches in order, which keeps the count off the common path.
 *
 * Under `FOR KEY SHARE`, writers of distinct new fields of one session run in parallel and each
 * counts before the others commit: concurrent additions can overshoot the limit by at most the
 * number of writes in flight on that session (from every process), never grow without bound.
 */
function room(n: TableNames, limitParam: string): string {
  return `room AS (
    SELECT CASE
      WHEN ${limitParam}::bigint IS NULL THEN true
      WHEN EXISTS (
        SELECT 1 FROM ${n.fields} WHERE session_id = target.id AND field = $2::text AND expires_at > now()
      ) THEN true
      ELSE (
        SELECT count(*) FROM (
          SELECT 1 FROM ${n.fields} WHERE session_id = target.id AND expires_at > now() LIMIT ${limitParam}::bigint
        ) AS live
      ) < ${limitParam}::bigint
    END AS fits
    FROM target
  )`
}

/** The status of a field change that wrote nothing: refused by the limit, or {@link unchanged}. */
const refusedStatus = (change: FieldChange): string =>
  `WHEN NOT coalesce((SELECT fits FROM room), true) THEN 'full' ELSE '${unchanged(change)}'`

/** The session expiry a write asks for: now + session TTL, never past the deadline. */
const EXTENDED = `least(now() + ${seconds('$5')}, ${cap('u')})`

/**
 * Write into an existing live session. `FOR KEY SHARE` pins the session row: a concurrent delete,
 * revocation or rename waits for this statement (or, if it committed first, the row drops out and the
 * write reports `missing`), so a write never resurrects a deleted session, while other writers, which
 * take the same lock, run in parallel up to the UPDATE at the end. A written field makes the session
 * active now (`last_active_at`) and moves its expiry, only ever forward; `touched` tells whether the
 * expiry moved.
 */
function existing(n: TableNames, change: FieldChange): string {
  return `
    WITH target AS MATERIALIZED (
      SELECT id, expires_at FROM ${n.sessions} WHERE key = $1::text AND expires_at > now() FOR KEY SHARE
    ),
    ${room(n, '$6')},
    ${writeField(n, change, true)},
    ext AS (
      UPDATE ${n.sessions} AS u SET expires_at = greatest(u.expires_at, ${EXTENDED}), last_active_at = now()
      FROM target
      WHERE u.id = target.id AND EXISTS (SELECT 1 FROM ins)
      RETURNING u.expires_at
    )
    SELECT
      CASE WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'missing'
           WHEN EXISTS (SELECT 1 FROM ins) THEN 'written' ${refusedStatus(change)} END AS status,
      ${remainingMs('coalesce((SELECT expires_at FROM ext), (SELECT expires_at FROM target))')} AS ttl,
      coalesce((SELECT e.expires_at > t.expires_at FROM ext AS e, target AS t), false) AS touched${counterColumn(change)}`
}

/**
 * Create a session and write its first field. An expired session at the key is deleted first (the
 * INSERT reads from that DELETE, which forces the order); the new row gets a new `id`, so the
 * cascade removing the old fields at the end of the statement cannot reach the new field. A live
 * session at the key, including one created concurrently, makes `ON CONFLICT DO NOTHING` skip:
 * `collision`. `$6` is the absolute lifetime in seconds, or NULL.
 */
function create(n: TableNames, change: FieldChange): string {
  return `
    WITH gone AS (DELETE FROM ${n.sessions} WHERE key = $1::text AND expires_at <= now() RETURNING id),
    target AS (
      INSERT INTO ${n.sessions} (key, expires_at, deadline)
      SELECT $1::text,
        least(now() + ${seconds('$5')}, coalesce(now() + ${seconds('$6')}, 'infinity'::timestamptz)),
        now() + ${seconds('$6')}
      FROM (SELECT count(*) FROM gone) AS forced_order
      ON CONFLICT (key) DO NOTHING
      RETURNING id, expires_at
    ),
    ${writeField(n, change, false)}
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 'written' ELSE 'collision' END AS status,
      ${remainingMs('(SELECT expires_at FROM target)')} AS ttl,
      EXISTS (SELECT 1 FROM ins) AS touched${counterColumn(change)}`
}

/**
 * Move the live session at `fromParam` to `toParam` as CTEs `src` (the session, locked FOR UPDATE so
 * writers and a second rename wait), `target` (it, when `to` is not live), `occupant` (an expired
 * session at `to`, deleted first) and `moved`. The move changes one row's key: fields reference the
 * surrogate id, so they follow without being rewritten. A session created at `to` concurrently
 * fails the statement with a unique violation, which the store reports as `collision`.
 */
function move(n: TableNames, fromParam: string, toParam: string, write?: FieldChange): string {
  const written = 'EXISTS (SELECT 1 FROM ins)'
  // A plain rename keeps the session's activity time; a write that comes with the move is activity.
  const expiry =
    write !== undefined
      ? `CASE WHEN ${written} THEN greatest(u.expires_at, ${EXTENDED}) ELSE u.expires_at END,
        last_active_at = CASE WHEN ${written} THEN now() ELSE u.last_active_at END`
      : 'u.expires_at'
  return `src AS MATERIALIZED (
      SELECT id, expires_at FROM ${n.sessions} WHERE key = ${fromParam}::text AND expires_at > now() FOR UPDATE
    ),
    target AS MATERIALIZED (
      SELECT src.id, src.expires_at FROM src
      WHERE NOT EXISTS (SELECT 1 FROM ${n.sessions} WHERE key = ${toParam}::text AND expires_at > now())
    ),
    ${write !== undefined ? `${room(n, '$7')}, ${writeField(n, write, true)},` : ''}
    occupant AS (
      DELETE FROM ${n.sessions}
      WHERE key = ${toParam}::text AND expires_at <= now() AND EXISTS (SELECT 1 FROM target)
      RETURNING id
    ),
    moved AS (
      UPDATE ${n.sessions} AS u SET key = ${toParam}::text, expires_at = ${expiry}
      FROM target, (SELECT count(*) FROM occupant) AS forced_order
      WHERE u.id = target.id
      RETURNING u.expires_at
    )`
}

const MOVE_STATUS = `CASE WHEN NOT EXISTS (SELECT 1 FROM src) THEN 'missing'
  WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'collision'`

/**
 * Write statements, one per shape of {@link WriteOptions}: each is a single statement, so each write
 * (rename included) is one atomic step and one round trip.
 *
 * @param n - quoted table names
 * @returns the SQL texts
 */
export function writeStatements(n: TableNames) {
  const renameWrite = (change: FieldChange): string =>
    `WITH ${move(n, '$6', '$1', change)}
    SELECT ${MOVE_STATUS} WHEN EXISTS (SELECT 1 FROM ins) THEN 'written' ${refusedStatus(change)} END AS status,
      ${remainingMs('(SELECT expires_at FROM moved)')} AS ttl,
      coalesce((SELECT m.expires_at > t.expires_at FROM moved AS m, target AS t), false) AS touched
      ${counterColumn(change)}`
  const shapes = (change: FieldChange) => ({
    existing: existing(n, change),
    create: create(n, change),
    rename: renameWrite(change),
  })
  const update = shapes({ kind: 'update' })
  const insert = shapes({ kind: 'insert' })
  return {
    update: update.existing,
    insert: insert.existing,
    create: update.create,
    renameUpdate: update.rename,
    renameInsert: insert.rename,
    /** Per integer format: `existing`, `create`, `rename`, with `$3` the amount to add. */
    increment: {
      json: shapes({ kind: 'increment', format: 'json' }),
      msgpack: shapes({ kind: 'increment', format: 'msgpack' }),
    } satisfies Record<IntegerFormat, unknown>,
    /** `[from, to]` */
    rename: `WITH ${move(n, '$1', '$2')}
      SELECT ${MOVE_STATUS} ELSE 'renamed' END AS status,
        ${remainingMs('(SELECT expires_at FROM moved)')} AS ttl, false AS touched`,
  }
}
