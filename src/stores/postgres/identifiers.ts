import { describeValue, optionError } from '../../core/validate.js'

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1) without an error. */
const MAX_IDENTIFIER_BYTES = 63

/** Suffixes of the tables derived from the sessions table name. */
const FIELDS_SUFFIX = '_fields'
const VERSIONS_SUFFIX = '_schema_version'
/** Suffixes of the functions `increment` uses to read and write integers in a codec's format. */
const DECODE_SUFFIX = '_decode_integer'
const ENCODE_SUFFIX = '_encode_integer'
/** Suffixes of the functions `bind` and `revokeSubject` call (a subject's binds serialise inside them). */
const BIND_SUFFIX = '_bind_subject'
const REVOKE_SUFFIX = '_revoke_subject'

/** Quoted, schema-qualified names of every object the store owns. */
export interface TableNames {
  /** The schema, quoted. */
  schema: string
  /** `schema.table`, quoted: one row per session. */
  sessions: string
  /** `schema.table_fields`, quoted: one row per field. */
  fields: string
  /** `schema.table_schema_version`, quoted: applied migrations. */
  versions: string
  /** `schema.table_decode_integer`, quoted: `(bytea, format text) → bigint`, NULL when not a safe integer. */
  decodeInteger: string
  /** `schema.table_encode_integer`, quoted: `(bigint, format text) → bytea`. */
  encodeInteger: string
  /** `schema.table_bind_subject`, quoted: the whole of `bind` (see statements/subjects.ts). */
  bindSubject: string
  /** `schema.table_revoke_subject`, quoted: the whole of `revokeSubject`. */
  revokeSubject: string
  /** Raw (unquoted) schema and table, for catalog lookups and lock keys. */
  raw: { schema: string; table: string }
}

/**
 * Quote an identifier for PostgreSQL: wrap in double quotes and double any embedded quote, so any
 * name (spaces, quotes, capitals, unicode) is taken literally and can never inject SQL.
 *
 * @param name - the raw identifier
 * @returns the quoted identifier
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function validate(label: string, name: unknown, reservedBytes: number): string {
  if (typeof name !== 'string' || name.length === 0)
    throw optionError('PostgresStore', label, `must be a non-empty string (got ${describeValue(name)})`)
  // NUL cannot be stored in a PostgreSQL identifier; lone surrogates cannot be encoded as UTF-8.
  if (name.includes('\0') || !name.isWellFormed())
    throw optionError('PostgresStore', label, 'must be well-formed Unicode without NUL')
  const bytes = Buffer.byteLength(name, 'utf8')
  // Longer names would be silently truncated by the server, and two stores could then share tables.
  if (bytes + reservedBytes > MAX_IDENTIFIER_BYTES) {
    throw optionError('PostgresStore', label, `must be at most ${MAX_IDENTIFIER_BYTES - reservedBytes} bytes`)
  }
  return name
}

/**
 * Validate the configured schema and table and derive every quoted name the store uses.
 *
 * @param schema - schema holding the tables
 * @param table - name of the sessions table; the others get suffixes
 * @returns the quoted names
 * @throws SessionConfigError for empty, over-long or unencodable names
 */
export function tableNames(schema: string, table: string): TableNames {
  const rawSchema = validate('schema', schema, 0)
  const suffixes = [FIELDS_SUFFIX, VERSIONS_SUFFIX, DECODE_SUFFIX, ENCODE_SUFFIX, BIND_SUFFIX, REVOKE_SUFFIX]
  const rawTable = validate('table', table, Math.max(...suffixes.map((suffix) => suffix.length)))
  const qualify = (name: string): string => `${quoteIdentifier(rawSchema)}.${quoteIdentifier(name)}`
  return {
    schema: quoteIdentifier(rawSchema),
    sessions: qualify(rawTable),
    fields: qualify(rawTable + FIELDS_SUFFIX),
    versions: qualify(rawTable + VERSIONS_SUFFIX),
    decodeInteger: qualify(rawTable + DECODE_SUFFIX),
    encodeInteger: qualify(rawTable + ENCODE_SUFFIX),
    bindSubject: qualify(rawTable + BIND_SUFFIX),
    revokeSubject: qualify(rawTable + REVOKE_SUFFIX),
    raw: { schema: rawSchema, table: rawTable },
  }
}

/** First half of the advisory lock key that serialises migrations ("rutm"). */
const MIGRATION_LOCK_CLASS = 0x7275746d
/** First half of the advisory lock key that elects the cleaning instance ("rutc"). */
const CLEANUP_LOCK_CLASS = 0x72757463

/** A two-part advisory lock key, as taken by `pg_advisory_lock(int4, int4)`. */
export type AdvisoryLockKey = readonly [number, number]

/**
 * The advisory lock keys of one store's tables. The second half is a hash of the qualified table
 * name, so stores on different tables never wait for each other.
 *
 * @param names - the store's table names
 * @returns the migration and cleanup lock keys
 */
export function advisoryLockKeys(names: TableNames): { migration: AdvisoryLockKey; cleanup: AdvisoryLockKey } {
  const id = tableHash(names)
  return { migration: [MIGRATION_LOCK_CLASS, id], cleanup: [CLEANUP_LOCK_CLASS, id] }
}

/**
 * A 32-bit hash of the qualified table name (signed int4): the half of every advisory lock key that
 * keeps stores on different tables apart. The subject locks of `bind` put it in the high half of a
 * bigint key, the subject's hash in the low half (the bigint key space is separate from the
 * two-int4 one the migration and cleanup locks use).
 *
 * @param names - the store's table names
 * @returns the hash
 */
export function tableHash(names: TableNames): number {
  return fnv1a(`${names.raw.schema}\0${names.raw.table}`)
}

/** 32-bit FNV-1a over UTF-8, as a signed int4. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return hash | 0
}
