import { SessionError } from './errors.js'
import type { SessionCalls } from './session-calls.js'
import { readSessionMap, SessionMap } from './session-map.js'
import { checkSessionField, encodeWrite, readValue, type ValueLayer } from './session-values.js'
import type { FieldValue, PlacementOptions, WriteOptions } from './store.js'
import { isTtl, ttlError } from './ttl.js'
import { type SessionWriteOptions, storeWriteOptions } from './write-options.js'

// The field operations of a session handle (`get`, `getAll`, `insert`/`update`, `increment`,
// `take`, `remove`): each goes straight to the store for the one field it names, and remembers the
// field's bytes so a repeated read in the same request costs no store call.

/** Names of the fields of `Data` that can hold a number, the fields `increment` accepts. */
export type IntegerField<Data extends object> = {
  [K in keyof Data & string]-?: number extends Data[K] ? K : never
}[keyof Data & string]

/** The field TTL of a write call: its `ttl`, or the cookie's `maxAge`. */
function fieldTtlOf(options: { ttl?: number } | undefined, maxAge: number): number {
  const fieldTtl = options?.ttl ?? maxAge
  if (!isTtl(fieldTtl)) throw ttlError('ttl')
  return fieldTtl
}

/**
 * A field name the call cannot take, as the call's rejected promise: every session method fails
 * through its promise (`session.get(name).catch(next)` must see it), never by throwing at the call.
 *
 * @returns the rejection, or `undefined` for a good name
 */
function refusedField(layer: ValueLayer, field: string): Promise<never> | undefined {
  try {
    checkSessionField(layer, field)
    return undefined
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * @param calls - the handle's state
 * @param field - field name
 * @returns what `session.get(field)` resolves to
 */
export function getField<Data extends object>(calls: SessionCalls<Data>, field: string): Promise<unknown> {
  const refused = refusedField(calls.layer, field)
  if (refused !== undefined) return refused
  return calls.run(async () => {
    // readValue gives a promise only with an async schema: returned, not awaited, so a plain value
    // costs no extra promise and turn (the async function adopts a promise either way).
    const cache = calls.cache
    if (cache?.has(field)) return readValue(calls.layer, field, cache.get(field))
    const read = await calls.onLive('get', (key) => calls.layer.store.get(key, field, calls.layer.readOptions))
    if (read === undefined) return undefined
    calls.remember(field, read.value)
    return readValue(calls.layer, field, read.value)
  })
}

/**
 * @param calls - the handle's state
 * @returns what `session.getAll()` resolves to
 */
export function getAllFields<Data extends object>(calls: SessionCalls<Data>): Promise<SessionMap<Data> | undefined> {
  return calls.run(async () => {
    const read = await calls.onLive('getAll', (key) => calls.layer.store.getAll(key, calls.layer.readOptions))
    if (read === undefined) return undefined
    for (const [field, bytes] of read.fields) calls.remember(field, bytes)
    const { codec, fields } = calls.layer
    // Without schemas nothing is validated up front: no extra await on the common path.
    return fields === undefined
      ? new SessionMap<Data>(read.fields, codec)
      : await readSessionMap<Data>(read.fields, codec, fields)
  })
}

/**
 * @param calls - the handle's state
 * @param field - field name
 * @param value - the caller's value
 * @param options - the caller's write options
 * @param mode - `insert` writes only a missing field, `update` any
 * @returns what `session.insert()` / `session.update()` resolve to
 */
export async function writeField<Data extends object>(
  calls: SessionCalls<Data>,
  field: string,
  value: unknown,
  options: SessionWriteOptions | undefined,
  mode: 'insert' | 'update',
): Promise<boolean> {
  checkSessionField(calls.layer, field)
  const layer = calls.layer
  const fieldTtl = fieldTtlOf(options, layer.cookie.maxAge)
  const extra = storeWriteOptions(options, layer.store)
  const fields = layer.fields
  // Without schemas the value is checked at the call; a schema (maybe async) runs in call order,
  // inside the queue, and its output is what gets stored.
  let bytes = fields === undefined ? encodeWrite(layer, value) : undefined
  const validate =
    fields === undefined
      ? undefined
      : async () => {
          bytes = encodeWrite(layer, (await fields.forWrite(field, value)).value)
        }
  const result = await calls.place(
    'write',
    fieldTtl,
    (key, placement) => {
      const write: WriteOptions = extended(placement, { mode })
      if (extra !== undefined) write.extra = extra
      return layer.store.write(key, field, bytes as FieldValue, write)
    },
    validate,
  )
  if (result.status === 'written') calls.remember(field, bytes)
  else calls.cache?.delete(field)
  if (result.status === 'full') throw sessionFull(layer.maxFields)
  return result.status === 'written'
}

/**
 * A placement with the operation's own options added. `place` builds a fresh placement for each store
 * call, so it is extended rather than copied: the copy (`{ ...placement, mode }`) cost ~400 bytes of
 * allocation per write.
 *
 * @param placement - what `place` gave the store call
 * @param own - the operation's options
 * @returns `placement`, extended
 */
function extended<O extends object>(placement: PlacementOptions, own: O): PlacementOptions & O {
  return Object.assign(placement, own)
}

/**
 * A store refused to add a field to a session that holds `maxFields` already. The message names the
 * limit only: the field name may be the client's (an app that takes names from requests), and this
 * text reaches logs.
 */
function sessionFull(maxFields: number): SessionError {
  return new SessionError(
    'ERR_SESSION_VALUE',
    `the session already holds the layer's maxFields (${maxFields}) fields; a new field is refused`,
  )
}

/**
 * @param calls - the handle's state
 * @param field - an integer field
 * @param by - the caller's increment
 * @param options - `ttl`: the field's TTL when this call creates it
 * @returns what `session.increment()` resolves to
 */
export async function incrementField<Data extends object>(
  calls: SessionCalls<Data>,
  field: string,
  by: number,
  options: { ttl?: number } | undefined,
): Promise<number> {
  const layer = calls.layer
  checkSessionField(layer, field)
  if (!Number.isSafeInteger(by)) throw new SessionError('ERR_SESSION_ARGUMENT', 'by must be a safe integer')
  checkIncrementOptions(options)
  const fieldTtl = fieldTtlOf(options, layer.cookie.maxAge)
  const store = layer.store
  const format = layer.codec.integerFormat
  if (store.increment === undefined || format === undefined) {
    const what = format === undefined ? `the ${layer.codec.name} codec` : `the ${store.name} store`
    throw new SessionError('ERR_SESSION_UNSUPPORTED', `increment() is not supported by ${what}`)
  }
  const increment = store.increment.bind(store)
  const result = await calls.place('increment', fieldTtl, (key, placement) =>
    increment(key, field, extended(placement, { by, format })),
  )
  if (result.status !== 'written') {
    calls.cache?.delete(field)
    if (result.status === 'full') throw sessionFull(layer.maxFields)
    throw new SessionError(
      'ERR_SESSION_VALUE',
      `increment(): the field does not hold a safe integer, or the sum would leave the safe range`,
    )
  }
  calls.remember(field, layer.codec.encode(result.value))
  const fields = layer.fields
  if (fields === undefined) return result.value
  // A schema checks the sum like a written value, but only after the store added it (a store cannot
  // ask a schema inside its atomic step). A rejected sum is taken back by the opposite increment, so
  // what stays stored is what the schema accepted (increments in between keep their share), and the
  // call fails with ERR_SESSION_VALUE. A field this call created is left at 0.
  try {
    return (await fields.forWrite(field, result.value)).value as number
  } catch (error) {
    if (!(error instanceof SessionError) || error.code !== 'ERR_SESSION_VALUE') throw error
    // Only on the session the increment reached, as it is: never creating one (it may have ended
    // in between) or moving one.
    const key = calls.parse()[0]?.key
    if (key !== undefined) {
      const placement = { session: 'existing', fieldTtl, sessionTtl: layer.idleTimeout ?? fieldTtl } as const
      const undone = await calls.run(() =>
        calls.call('increment', () => increment(key, field, { ...placement, by: -by, format })),
      )
      if (undone.status === 'written') calls.remember(field, layer.codec.encode(undone.value))
      else calls.cache?.delete(field)
    }
    throw error
  }
}

/**
 * `increment` takes `ttl` only: a store's write options (a LayeredStore's `strategy`, `hotTtl`) do
 * not apply to it (a layered increment always adds in cold), and are refused as `update` refuses
 * options a store does not understand, rather than ignored.
 */
function checkIncrementOptions(options: object | undefined): void {
  if (options === undefined) return
  for (const name of Object.keys(options)) {
    if (name === 'ttl' || (options as Record<string, unknown>)[name] === undefined) continue
    throw new SessionError('ERR_SESSION_OPTION', `increment() takes only the ttl option, not ${name}`)
  }
}

/**
 * @param calls - the handle's state
 * @param field - field name
 * @returns what `session.take(field)` resolves to
 */
export function takeField<Data extends object>(calls: SessionCalls<Data>, field: string): Promise<unknown> {
  const refused = refusedField(calls.layer, field)
  if (refused !== undefined) return refused
  const store = calls.layer.store
  if (store.take === undefined) {
    return Promise.reject(
      new SessionError('ERR_SESSION_UNSUPPORTED', `take() is not supported by the ${store.name} store`),
    )
  }
  const take = store.take.bind(store)
  return calls.run(async () => {
    const read = await calls.onLive('take', (key) => take(key, field))
    calls.remember(field, undefined)
    return readValue(calls.layer, field, read?.value)
  })
}

/**
 * @param calls - the handle's state
 * @param field - field name
 * @returns what `session.remove(field)` resolves to
 */
export function removeField<Data extends object>(calls: SessionCalls<Data>, field: string): Promise<boolean> {
  const refused = refusedField(calls.layer, field)
  if (refused !== undefined) return refused
  return calls.run(async () => {
    const result = await calls.onLive('remove', (key) => calls.layer.store.remove(key, field))
    calls.remember(field, undefined)
    return result?.removed ?? false
  })
}
