import type { TableNames } from '../identifiers.js'

// Every statement decides time with the database clock: `now()` is fixed for the whole statement,
// so all comparisons inside one operation agree. Intervals are built from seconds with
// make_interval(secs => …), which is an exact duration whatever the session's TimeZone (an
// interval of '1 day' would follow daylight-saving shifts).

/** An exact interval of `param` seconds (a float8 query parameter, NULL stays NULL). */
export function seconds(param: string): string {
  return `make_interval(secs => ${param}::float8)`
}

/** Remaining milliseconds until `expr`, by the database clock; at least 1 for a live row. */
export function remainingMs(expr: string): string {
  return `ceil((extract(epoch FROM ${expr}) - extract(epoch FROM now())) * 1000)::float8`
}

/** The latest allowed expiry for a session row alias `row`: its absolute deadline, if any. */
export function cap(row: string): string {
  return `coalesce(${row}.deadline, 'infinity'::timestamptz)`
}

/** Row of {@link readStatements}' `get`. */
export interface GetRow {
  ttl: number
  touched: boolean
  value: Buffer | null
  /** The field's remaining milliseconds; null with no value. */
  field_ttl: number | null
}

/** Row of {@link readStatements}' `getAll`: one per live field, or one with `field` null. */
export interface GetAllRow {
  ttl: number
  touched: boolean
  field: string | null
  value: Buffer | null
}

/**
 * The live session at `$1` as CTE `s`, and CTE `t` holding its new expiry when the read's sliding
 * refresh (`ttlParam`, `thresholdParam`) moved it. The refresh is a conditional UPDATE in the same
 * statement, so a read with `idleTimeout` is still one round trip, and it re-checks the row under
 * its lock so concurrent refreshes never shorten a lifetime. A refresh is activity (`last_active_at`).
 */
function liveSession(n: TableNames, touch?: { ttlParam: string; thresholdParam: string }): string {
  const live = `s AS MATERIALIZED (SELECT id, expires_at FROM ${n.sessions} WHERE key = $1::text AND expires_at > now())`
  if (touch === undefined) return `${live}, t AS (SELECT NULL::timestamptz AS expires_at WHERE false)`
  const target = `least(now() + ${seconds(touch.ttlParam)}, ${cap('u')})`
  return `${live},
    t AS (
      UPDATE ${n.sessions} AS u SET expires_at = ${target}, last_active_at = now()
      FROM s
      WHERE u.id = s.id AND u.expires_at > now()
        AND u.expires_at <= now() + ${seconds(touch.ttlParam)} - ${seconds(touch.thresholdParam)}
        AND ${target} > u.expires_at
      RETURNING u.expires_at
    )`
}

const SESSION_COLUMNS = `${remainingMs('coalesce((SELECT expires_at FROM t), s.expires_at)')} AS ttl,
  EXISTS (SELECT 1 FROM t) AS touched`

/**
 * Read statements. `get` takes `[key, field]` or `[key, field, touchTtl, touchThreshold]`;
 * `getAll` takes `[key]` or `[key, touchTtl, touchThreshold]`. No row means no live session.
 *
 * @param n - quoted table names
 * @returns the SQL texts
 */
export function readStatements(n: TableNames) {
  const get = (touch: boolean): string => `
    WITH ${liveSession(n, touch ? { ttlParam: '$3', thresholdParam: '$4' } : undefined)}
    SELECT ${SESSION_COLUMNS}, v.value, ${remainingMs('v.expires_at')} AS field_ttl
    FROM s LEFT JOIN LATERAL (
      SELECT f.value, f.expires_at FROM ${n.fields} AS f
      WHERE f.session_id = s.id AND f.field = $2::text AND f.expires_at > now()
    ) AS v ON true`
  const getAll = (touch: boolean): string => `
    WITH ${liveSession(n, touch ? { ttlParam: '$2', thresholdParam: '$3' } : undefined)}
    SELECT ${SESSION_COLUMNS}, f.field, f.value
    FROM s LEFT JOIN ${n.fields} AS f ON f.session_id = s.id AND f.expires_at > now()`
  return { get: get(false), getTouch: get(true), getAll: getAll(false), getAllTouch: getAll(true) }
}

/**
 * Delete one field row of the live session at `$1`; the session row is never touched, so removing a
 * missing field cannot end the session. Concurrent deletes of one row serialise on its lock and
 * only the first returns it: of concurrent takes, exactly one gets the value.
 */
function removal(n: TableNames, column: string): string {
  return `
      WITH s AS MATERIALIZED (SELECT id, expires_at FROM ${n.sessions} WHERE key = $1::text AND expires_at > now()),
      d AS (
        DELETE FROM ${n.fields} AS f USING s
        WHERE f.session_id = s.id AND f.field = $2::text
        RETURNING f.expires_at > now() AS live, f.value
      )
      SELECT ${remainingMs('s.expires_at')} AS ttl, ${column}
      FROM s`
}

/** Row of `remove`. */
export interface RemoveRow {
  ttl: number
  removed: boolean
}

/**
 * Removal and lifetime statements.
 *
 * - `remove [key, field]`: deletes only the field row; the session row is never touched, so removing
 *   a missing field cannot end the session. `removed` is true only for a live field.
 * - `delete [key]`: the fields go with it (ON DELETE CASCADE); `live` tells whether it was live.
 * - `expire [key, seconds]`: sets the expiry, capped by the absolute deadline; only a live session.
 *
 * @param n - quoted table names
 * @returns the SQL texts
 */
export function lifetimeStatements(n: TableNames) {
  return {
    remove: removal(n, 'coalesce((SELECT bool_or(live) FROM d), false) AS removed'),
    /** `[key, field]`: the field's live value and its deletion in one statement (the store's `take`). */
    take: removal(n, '(SELECT value FROM d WHERE live) AS value'),
    delete: `DELETE FROM ${n.sessions} WHERE key = $1::text RETURNING expires_at > now() AS live`,
    expire: `
      UPDATE ${n.sessions} AS u SET expires_at = least(now() + ${seconds('$2')}, ${cap('u')}), last_active_at = now()
      WHERE u.key = $1::text AND u.expires_at > now()
      RETURNING ${remainingMs('u.expires_at')} AS ttl`,
  }
}
