import { SessionConfigError } from '../../core/errors.js'

/**
 * Check, when an adapter is built, that it was given a session layer: a wrong argument (the options
 * object express-session takes, a store, nothing) would otherwise fail every request with a
 * `TypeError` (a 500) instead of failing once, at start-up, with a clear message.
 *
 * @param owner - the adapter function, for the message (`'session'`, `'withSession'`)
 * @param layer - what the adapter was given
 * @throws SessionConfigError unless `layer` has an `open` method
 *
 * @example
 * ```ts
 * export function session(layer: SessionLayer) {
 *   checkLayer('session', layer)
 *   …
 * }
 * ```
 */
export function checkLayer(owner: string, layer: unknown): void {
  if (typeof (layer as { open?: unknown } | null | undefined)?.open === 'function') return
  const options = typeof layer === 'object' && layer !== null && ('store' in layer || 'secret' in layer)
  const hint = options
    ? ': pass new SessionLayer({ store, secret, … }), not its options'
    : ', e.g. session(new SessionLayer({ store: new MemoryStore() }))'
  throw new SessionConfigError(`${owner}: layer must be a SessionLayer${hint}`, { option: 'layer' })
}

/**
 * @internal The error of a typed session accessor (`sessionOf`) called where the adapter did not run.
 * @param where - where the session should have been
 * @param fix - the line that installs the adapter
 * @returns the error
 */
export function missingMiddleware(where: string, fix: string): SessionConfigError {
  return new SessionConfigError(`no session at ${where}: install the adapter first (${fix})`, { option: 'layer' })
}
