import { type TableNames, tableHash } from '../identifiers.js'
import { remainingMs, seconds } from './sql.js'

// A session's subject is a column of its own row (`subject`, indexed with `expires_at`, partial): the subject's
// "index" is that index, so it holds exactly the subject's rows, live or expired and not yet deleted,
// and a session leaves it when its row goes (delete, revoke, the cleanup task, the subject's next bind)
// or is rebound. Nothing separate can drift from the sessions: a live session bound to a subject is
// in the subject's list by definition.

/** Milliseconds since the epoch of a timestamptz, by the database clock. */
const epochMs = (expr: string): string => `floor(extract(epoch FROM ${expr}) * 1000)::float8`

/** Row of `subjectOf`. */
export interface SubjectRow {
  ttl: number
  subject: string | null
  meta: string | null
}

/** Row of `list`. */
export interface ListRow {
  key: string
  created_at: number
  last_active_at: number
  expires_at: number
  meta: string | null
}

/** Row of the bind function. `ttl` is null unless the status is `bound` or `kept`. */
export interface BindRow {
  status: 'bound' | 'kept' | 'missing' | 'collision'
  ttl: number | null
  touched: boolean
  ended: string[]
}

/**
 * Subject statements, each one statement and one round trip.
 *
 * - `subjectOf [key]`: the live session's subject and meta (no row: no live session).
 * - `list [subject]`: the subject's live sessions, most recently active first. Rows of sessions that
 *   expired are skipped by the query and deleted by the cleanup task, like every expired row.
 * - `revoke [subject, keys | null, except | null]`: calls the revoke function (below), which returns
 *   the keys of the live sessions it deleted.
 * - `bind [key, renameFrom | null, subject, meta, sessionTtl, maxLifetime | null, maxSessions | null]`:
 *   calls the bind function (below).
 *
 * @param n - quoted names
 * @returns the SQL texts
 */
export function subjectStatements(n: TableNames) {
  return {
    subjectOf: `SELECT ${remainingMs('expires_at')} AS ttl, subject, meta
      FROM ${n.sessions} WHERE key = $1::text AND expires_at > now()`,
    list: `SELECT key, ${epochMs('created_at')} AS created_at, ${epochMs('last_active_at')} AS last_active_at,
        ${epochMs('expires_at')} AS expires_at, meta
      FROM ${n.sessions} WHERE subject = $1::text AND expires_at > now()
      ORDER BY last_active_at DESC, id DESC`,
    revoke: `SELECT key FROM ${n.revokeSubject}($1::text, $2::text[], $3::text)`,
    bind: `SELECT status, ttl, touched, ended FROM ${n.bindSubject}($1::text, $2::text, $3::text, $4::text,
      $5::float8, $6::float8, $7::int)`,
  }
}

/**
 * Migration 3: the columns, the index and the bind and revoke functions.
 *
 * `created_at` and `last_active_at` default to `now()`: rows written before the upgrade get the time
 * of the upgrade (a constant default, so PostgreSQL 11+ adds the columns without rewriting the
 * table). The subject is stored as given, not hashed: `getSubject()` must return it, it is the
 * application's user id (no secret: a hash of a guessable id hides nothing), and what a dump must
 * not reveal, the session id, stays a SHA-256 in `key`.
 *
 * @param n - quoted names
 * @returns the statements
 */
/**
 * Schema version 4: `bind` takes the subject's lock before pruning (see {@link bindFunction}). A
 * store at version 3 had the prune first, and two `maxSessions` binds of a subject whose sessions
 * were expiring could deadlock.
 *
 * @param n - quoted names
 * @returns the statements
 */
export function bindLockOrderMigration(n: TableNames): string[] {
  return [bindFunction(n)]
}

export function subjectMigration(n: TableNames): string[] {
  return [
    `ALTER TABLE ${n.sessions}
      ADD COLUMN subject text,
      ADD COLUMN meta text,
      ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN last_active_at timestamptz NOT NULL DEFAULT now()`,
    // Partial: sessions nobody is bound to (most of them, on many sites) cost the index nothing. With
    // expires_at: list reads the live rows and bind's prune the expired ones, each a range of it.
    `CREATE INDEX ON ${n.sessions} (subject, expires_at) WHERE subject IS NOT NULL`,
    bindFunction(n),
    revokeFunction(n),
  ]
}

/**
 * `bind` as one function, so that it is one statement and one atomic step, yet its steps see each
 * other's effects and binds of the same subject never count past each other:
 *
 * 1. with `maxSessions`, take the subject's advisory lock first (released at commit; before any row
 *    lock, or a bind holding it could wait for a row this one holds): those binds of one subject run
 *    one at a time and, as each statement of a PL/pgSQL function under READ COMMITTED
 *    takes a fresh snapshot, every statement after the lock sees every bind of the subject that
 *    committed before (a single SQL statement keeps the snapshot it took before waiting, and two
 *    concurrent binds would each miss the other when enforcing `maxSessions`). Without
 *    `maxSessions` a bind locks one row, and binds of one subject run in parallel;
 * 2. delete the subject's expired rows, so that a subject's rows are pruned by its next login even
 *    with the cleanup timer off (rows the cleanup task or another bind holds are left to them);
 * 3. create the session bound (`renameFrom` NULL), or lock the live session at `renameFrom`
 *    `FOR UPDATE`: already bound to the subject → replace `meta` (`kept`); else move it to `key` (as
 *    rename: a live session at `key` is a `collision` and nothing changes; a session that became live
 *    there meanwhile fails the statement with a unique violation, reported as `collision`) and bind
 *    it (`bound`). Either way the lifetime extends to `sessionTtl` (never shortened, capped by the
 *    deadline) and `last_active_at` is now; `created_at` stays;
 * 4. with `maxSessions`, delete the subject's other live sessions beyond the most recently active
 *    `maxSessions - 1`, returning their keys.
 *
 * The body names the tables, so it is made per store; its dollar-quote tag is chosen to appear
 * nowhere in them, whatever the configured names hold.
 */
function bindFunction(n: TableNames): string {
  const s = n.sessions
  const extended = `greatest(s.expires_at, least(now() + ${seconds('p_ttl')}, coalesce(s.deadline, 'infinity'::timestamptz)))`
  const body = `
    #variable_conflict use_column
    DECLARE
      v_id bigint;
      v_subject text;
      v_before timestamptz := '-infinity';
      v_after timestamptz;
      v_status text := 'bound';
      v_ended text[] := '{}';
    BEGIN
      -- The subject's lock before any row lock: a bind holding it may lock rows this one would
      -- otherwise hold while waiting for it (a row that expired between the two binds' clocks).
      IF p_max_sessions IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(${subjectLock(n)});
      END IF;
      -- Rows another statement holds (the cleanup task, a concurrent bind) are left to it.
      DELETE FROM ${s} AS s WHERE s.id IN (
        SELECT d.id FROM ${s} AS d WHERE d.subject = p_subject AND d.expires_at <= now() FOR UPDATE SKIP LOCKED
      );
      IF p_from IS NULL THEN
        DELETE FROM ${s} AS s WHERE s.key = p_key AND s.expires_at <= now();
        INSERT INTO ${s} AS s (key, expires_at, deadline, subject, meta)
        VALUES (p_key,
          least(now() + ${seconds('p_ttl')}, coalesce(now() + ${seconds('p_max_lifetime')}, 'infinity'::timestamptz)),
          now() + ${seconds('p_max_lifetime')}, p_subject, p_meta)
        ON CONFLICT (key) DO NOTHING
        RETURNING s.id, s.expires_at INTO v_id, v_after;
        IF v_id IS NULL THEN
          RETURN QUERY SELECT 'collision'::text, NULL::float8, false, '{}'::text[];
          RETURN;
        END IF;
      ELSE
        SELECT s.id, s.subject, s.expires_at INTO v_id, v_subject, v_before
        FROM ${s} AS s WHERE s.key = p_from AND s.expires_at > now() FOR UPDATE;
        IF v_id IS NULL THEN
          RETURN QUERY SELECT 'missing'::text, NULL::float8, false, '{}'::text[];
          RETURN;
        END IF;
        IF v_subject IS NOT DISTINCT FROM p_subject THEN
          v_status := 'kept';
          UPDATE ${s} AS s SET meta = p_meta, expires_at = ${extended}, last_active_at = now()
          WHERE s.id = v_id RETURNING s.expires_at INTO v_after;
        ELSE
          IF EXISTS (SELECT 1 FROM ${s} AS s WHERE s.key = p_key AND s.expires_at > now()) THEN
            RETURN QUERY SELECT 'collision'::text, NULL::float8, false, '{}'::text[];
            RETURN;
          END IF;
          DELETE FROM ${s} AS s WHERE s.key = p_key AND s.expires_at <= now();
          UPDATE ${s} AS s
          SET key = p_key, subject = p_subject, meta = p_meta, expires_at = ${extended}, last_active_at = now()
          WHERE s.id = v_id RETURNING s.expires_at INTO v_after;
        END IF;
      END IF;
      IF p_max_sessions IS NOT NULL THEN
        WITH victims AS (
          SELECT s.id FROM ${s} AS s
          WHERE s.subject = p_subject AND s.expires_at > now() AND s.id <> v_id
          ORDER BY s.last_active_at DESC, s.id DESC
          OFFSET greatest(p_max_sessions - 1, 0)
          FOR UPDATE
        ),
        gone AS (DELETE FROM ${s} AS s USING victims WHERE s.id = victims.id RETURNING s.key)
        SELECT coalesce(array_agg(gone.key), '{}') INTO v_ended FROM gone;
      END IF;
      RETURN QUERY SELECT v_status, ${remainingMs('v_after')}, v_after > v_before, v_ended;
    END`
  const tag = dollarTag(body)
  return `CREATE OR REPLACE FUNCTION ${n.bindSubject}(
      p_key text, p_from text, p_subject text, p_meta text,
      p_ttl float8, p_max_lifetime float8, p_max_sessions int)
    RETURNS TABLE (status text, ttl float8, touched boolean, ended text[])
    LANGUAGE plpgsql VOLATILE AS ${tag}${body}${tag}`
}

/**
 * `revokeSubject` as one function: under the subject's advisory lock (as `bind`), delete the
 * subject's live sessions (among `p_keys`, minus `p_except`) and return their keys.
 *
 * - The lock orders a revocation with the subject's `maxSessions` binds, which lock several of the
 *   subject's rows too: the two never lock the same rows in opposite orders (a deadlock). Any bind
 *   that committed before the revocation took the lock is ended (the DELETE's snapshot is taken
 *   after it); one that commits after is listed.
 * - A DELETE, not an update of the expiry: a writer holds the session row `FOR KEY SHARE`
 *   (statements/writes.ts), which a DELETE waits for and an UPDATE does not; a write that comes
 *   after the revocation finds the row gone. Had the revocation only moved `expires_at`, a write that
 *   had checked the row before would go on, and its UPDATE, blocked until the revocation commits,
 *   would re-read the row under READ COMMITTED, pass its checks and extend the expired session.
 * - The fields go by `ON DELETE CASCADE`.
 */
function revokeFunction(n: TableNames): string {
  const body = `
    #variable_conflict use_column
    BEGIN
      PERFORM pg_advisory_xact_lock(${subjectLock(n)});
      RETURN QUERY
        DELETE FROM ${n.sessions} AS s
        WHERE s.subject = p_subject AND s.expires_at > now()
          AND (p_keys IS NULL OR s.key = ANY (p_keys)) AND s.key IS DISTINCT FROM p_except
        RETURNING s.key;
    END`
  const tag = dollarTag(body)
  return `CREATE FUNCTION ${n.revokeSubject}(p_subject text, p_keys text[], p_except text)
    RETURNS TABLE (key text)
    LANGUAGE plpgsql VOLATILE AS ${tag}${body}${tag}`
}

/**
 * The subject's advisory lock key, from `p_subject`: the table's hash in the high half (stores on
 * other tables never wait for this one), the subject's in the low half. Two subjects sharing a hash
 * only wait for each other.
 */
function subjectLock(n: TableNames): string {
  return `(${tableHash(n)}::bigint << 32) | (hashtext(p_subject)::bigint & 4294967295)`
}

/** A dollar-quote tag that does not occur in `body` (table names may hold `$`). */
function dollarTag(body: string): string {
  for (let suffix = 0; ; suffix++) {
    const tag = `$ruts${suffix === 0 ? '' : suffix}$`
    if (!body.includes(tag)) return tag
  }
}
