import { SessionError } from './errors.js'

/** Longest field name, in UTF-16 code units. */
export const MAX_FIELD_LENGTH = 1024

/**
 * Field names reach every backend unchanged, so only names every backend can hold are accepted:
 * Postgres `text` cannot store NUL, and Redis would mangle lone surrogates.
 *
 * @param field - a field name from the caller
 * @throws SessionError `ERR_SESSION_ARGUMENT`
 */
export function checkField(field: unknown): asserts field is string {
  if (typeof field !== 'string' || field.length === 0 || field.length > MAX_FIELD_LENGTH) {
    throw new SessionError('ERR_SESSION_ARGUMENT', `a field name is a string of 1 to ${MAX_FIELD_LENGTH} characters`)
  }
  if (field.includes('\0') || !field.isWellFormed()) {
    throw new SessionError('ERR_SESSION_ARGUMENT', 'a field name must be well-formed Unicode without NUL')
  }
}
