import { SessionError } from '../../core/errors.js'
import type {
  BindOptions,
  BindResult,
  RevokeTarget,
  SessionKey,
  SubjectRead,
  SubjectSession,
} from '../../core/store.js'
import type { TableNames } from './identifiers.js'
import { type BindRow, type ListRow, type SubjectRow, subjectStatements } from './statements/subjects.js'

/** Runs one statement under the store's deadline and returns its rows; a unique violation answers `[collision]` when given. */
export type Query = <Row extends object>(
  operation: string,
  sql: string,
  params: unknown[],
  collision?: Row,
) => Promise<Row[]>

/** A key that became live concurrently with the move surfaces as a unique violation. */
const COLLISION: BindRow = { status: 'collision', ttl: null, touched: false, ended: [] }

/**
 * The subjects capability of {@link PostgresStore} (SPEC §13), one statement per call: see
 * statements/subjects.ts for the statements and docs/subjects.md for the guarantees.
 */
export class PostgresSubjects {
  readonly #sql: ReturnType<typeof subjectStatements>
  readonly #query: Query

  /**
   * @param names - quoted table names
   * @param query - the store's statement runner (deadline, error wrapping)
   */
  constructor(names: TableNames, query: Query) {
    this.#sql = subjectStatements(names)
    this.#query = query
  }

  /**
   * @param key - the fresh key (or the key to create)
   * @param options - see {@link BindOptions}
   * @returns see {@link BindResult}
   */
  async bind(key: SessionKey, options: BindOptions): Promise<BindResult> {
    const from = options.session === 'create' ? null : options.renameFrom
    if (from === undefined) {
      throw new SessionError('ERR_SESSION_ARGUMENT', "bind: session: 'existing' needs renameFrom")
    }
    const params = [
      key,
      from,
      options.subject,
      options.meta,
      options.sessionTtl,
      options.session === 'create' ? (options.maxLifetime ?? null) : null,
      options.maxSessions ?? null,
    ]
    const row = (await this.#query<BindRow>('bind', this.#sql.bind, params, COLLISION))[0]
    if (row === undefined) throw new Error('postgres: bind returned no row')
    if (row.status === 'missing' || row.status === 'collision') return { status: row.status }
    return { status: row.status, live: true, ttl: row.ttl ?? 0, touched: row.touched, ended: row.ended }
  }

  /**
   * @param key - session key
   * @returns the live session's subject and meta
   */
  async subjectOf(key: SessionKey): Promise<SubjectRead> {
    const row = (await this.#query<SubjectRow>('subjectOf', this.#sql.subjectOf, [key]))[0]
    if (row === undefined) return { live: false }
    return { live: true, ttl: row.ttl, touched: false, subject: row.subject ?? undefined, meta: row.meta ?? undefined }
  }

  /**
   * @param subject - the subject
   * @returns its live sessions, most recently active first
   */
  async listSubject(subject: string): Promise<SubjectSession[]> {
    const rows = await this.#query<ListRow>('listSubject', this.#sql.list, [subject])
    return rows.map((row) => ({
      key: row.key,
      createdAt: row.created_at,
      lastActiveAt: row.last_active_at,
      expiresAt: row.expires_at,
      meta: row.meta ?? '{}',
    }))
  }

  /**
   * @param subject - the subject
   * @param target - which of its sessions
   * @returns the keys of the live sessions it ended
   */
  async revokeSubject(subject: string, target: RevokeTarget): Promise<SessionKey[]> {
    const params = [subject, target.keys === undefined ? null : [...target.keys], target.except ?? null]
    const rows = await this.#query<{ key: string }>('revokeSubject', this.#sql.revoke, params)
    return rows.map((row) => row.key)
  }
}
