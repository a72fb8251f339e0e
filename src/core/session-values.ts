import { decodeField, encodeField, kindOf } from './codec.js'
import { SessionError } from './errors.js'
import { checkField } from './fields.js'
import type { SessionLayer } from './layer.js'
import type { FieldValue } from './store.js'

/** What a session's values depend on: the layer's codec and, when it has them, its field schemas. */
export type ValueLayer = Pick<SessionLayer, 'codec' | 'fields'>

/**
 * A field name every backend can hold and, with schemas, one of the layer's fields.
 *
 * @param layer - the session's layer
 * @param field - a field name from the caller
 * @throws SessionError `ERR_SESSION_ARGUMENT`
 */
export function checkSessionField(layer: ValueLayer, field: string): void {
  checkField(field)
  layer.fields?.assertKnown(field)
}

/**
 * @param layer - the session's layer
 * @param value - a value from the caller (or a schema's output)
 * @returns its bytes in the layer's codec
 * @throws SessionError `ERR_SESSION_VALUE` when the codec cannot encode it
 */
export function encodeValue(layer: Pick<ValueLayer, 'codec'>, value: unknown): Uint8Array {
  const codec = layer.codec
  try {
    codec.validate?.(value)
  } catch (error) {
    if (error instanceof SessionError) throw error
    // A getter that throws, a revoked Proxy: the value cannot be read, let alone stored. The
    // error's own message is not kept (it is the caller's code talking about the value).
    throw new SessionError('ERR_SESSION_VALUE', `session value cannot be read (${kindOf(error)})`)
  }
  return encodeField(codec, value)
}

/**
 * A value a handler writes, encoded and held to the layer's size limit.
 *
 * @param layer - the session's layer
 * @param value - a value from the caller (or a schema's output)
 * @returns its bytes in the layer's codec
 * @throws SessionError `ERR_SESSION_VALUE` when the codec cannot encode it or it is too large
 */
export function encodeWrite(layer: Pick<SessionLayer, 'codec' | 'maxValueBytes'>, value: unknown): Uint8Array {
  const bytes = encodeValue(layer, value)
  if (bytes.byteLength > layer.maxValueBytes) {
    throw new SessionError(
      'ERR_SESSION_VALUE',
      `the value is ${bytes.byteLength} bytes encoded, above the layer's maxValueBytes (${layer.maxValueBytes})`,
    )
  }
  return bytes
}

/**
 * A stored field as the caller sees it: decoded and, with schemas, validated (maybe async).
 *
 * @param layer - the session's layer
 * @param field - field name
 * @param bytes - its stored bytes, or `undefined` when it is absent
 * @returns the value, a promise of it (an async schema), or `undefined`
 */
export function readValue(layer: ValueLayer, field: string, bytes: FieldValue | undefined): unknown {
  const fields = layer.fields
  const value = bytes === undefined ? undefined : decodeField(layer.codec, field, bytes)
  return bytes === undefined || fields === undefined ? value : fields.forRead(field, value)
}
