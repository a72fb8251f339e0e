import { createHmac, timingSafeEqual } from 'node:crypto'
import { SessionConfigError } from '../core/errors.js'

/**
 * Verifies express-session cookies the way `cookie-signature` signs them: the value is
 * `s:<sid>.<signature>`, the signature the standard base64 HMAC-SHA256 of the sid with its `=`
 * padding removed. Every secret of the list verifies; nothing is ever signed here.
 */
export class ExpressSessionSigner {
  readonly #secrets: readonly string[]

  /**
   * @param secrets - the express-session app's secret or list; any non-empty string (they are that
   *   app's secrets, e.g. `'keyboard cat'`, and only verify)
   * @throws SessionConfigError for a missing secret, an empty list or a non-string entry
   */
  constructor(secrets: string | readonly string[]) {
    const list = typeof secrets === 'string' ? [secrets] : Array.isArray(secrets) ? [...secrets] : []
    if (list.length === 0 || list.some((secret) => typeof secret !== 'string' || secret.length === 0)) {
      throw new SessionConfigError('legacySessions needs the express-session secret (a non-empty string or list)')
    }
    this.#secrets = list
  }

  /**
   * @param value - a raw cookie value as the browser sent it (`s%3A…`, as express-session writes it)
   * @returns the session id when a secret verifies the whole value; `undefined` when none does;
   *   `false`, without computing any HMAC, when the value does not have the signed shape at all
   */
  unsign(value: string): string | false | undefined {
    const decoded = decodeCookieValue(value)
    if (decoded === undefined || !decoded.startsWith('s:')) return false
    const dot = decoded.lastIndexOf('.')
    if (dot < 3) return false
    const sid = decoded.slice(2, dot)
    const given = Buffer.from(decoded.slice(dot + 1))
    for (const secret of this.#secrets) {
      const expected = Buffer.from(createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''))
      if (expected.length === given.length && timingSafeEqual(expected, given)) return sid
    }
    return undefined
  }
}

/** As the `cookie` package reads a value: outer double quotes dropped, percent-escapes decoded. */
function decodeCookieValue(value: string): string | undefined {
  const unquoted = value.length > 1 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
  if (!unquoted.includes('%')) return unquoted
  try {
    return decodeURIComponent(unquoted)
  } catch {
    return undefined
  }
}
