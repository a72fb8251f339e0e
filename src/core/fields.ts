import { SessionError } from './errors.js'

/** Longest field name, in bytes of UTF-8 (1024 ASCII characters, 341 CJK ones). */
export const MAX_FIELD_BYTES = 1024

/** Names of at most this many UTF-16 code units fit whatever they hold (3 bytes per unit at most). */
const ALWAYS_FITS = Math.floor(MAX_FIELD_BYTES / 3)

/**
 * Field names reach every backend unchanged, so only names every backend can hold are accepted:
 * Postgres `text` cannot store NUL, Redis would mangle lone surrogates, and Postgres indexes the
 * name with the session key in a B-tree, whose entries must stay under 2,704 bytes. The limit is in
 * bytes for that reason: 1024 characters of CJK text (3,072 bytes) would pass a limit in characters
 * and then fail on Postgres only.
 *
 * @param field - a field name from the caller
 * @throws SessionError `ERR_SESSION_ARGUMENT`
 */
export function checkField(field: unknown): asserts field is string {
  if (
    typeof field !== 'string' ||
    field.length === 0 ||
    (field.length > ALWAYS_FITS && utf8Length(field) > MAX_FIELD_BYTES)
  ) {
    throw new SessionError('ERR_SESSION_ARGUMENT', `a field name is a string of 1 to ${MAX_FIELD_BYTES} bytes of UTF-8`)
  }
  if (field.includes('\0') || !field.isWellFormed()) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'a field name must be well-formed Unicode without NUL')
  }
}

/** Most characters of a field name an error message or a warning quotes. */
const QUOTED_FIELD_LENGTH = 64

/**
 * A field name as messages quote it: a name may come from a client (`session.get(req.query.key)`),
 * and messages end up in logs, so it is quoted as a JSON string (line breaks, escape sequences and
 * other control characters escaped) and cut to 64 characters.
 *
 * @param field - a field name, checked or not
 * @returns the quoted name, with `…` after it when it was cut
 */
export function quoteField(field: string): string {
  const cut = field.length > QUOTED_FIELD_LENGTH
  // JSON escapes control characters; line and paragraph separators and bidirectional controls, which
  // it leaves as they are, can still break a log line or reorder what a reader sees.
  const quoted = JSON.stringify(cut ? field.slice(0, QUOTED_FIELD_LENGTH) : field).replace(
    /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  return cut ? `${quoted}…` : quoted
}

/**
 * @param field - any string
 * @returns whether {@link checkField} accepts it
 */
export function isFieldName(field: string): boolean {
  try {
    checkField(field)
    return true
  } catch {
    return false
  }
}

/**
 * @param text - any string
 * @returns its length in UTF-8 (a lone surrogate counted as the 3-byte U+FFFD it would become)
 */
function utf8Length(text: string): number {
  let bytes = text.length
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index)
    if (unit < 0x80) continue
    // Two bytes below U+0800, else three; a surrogate pair is two units and four bytes.
    bytes += unit < 0x800 ? 1 : 2
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1)
      if (next >= 0xdc00 && next <= 0xdfff) index++
    }
  }
  return bytes
}
