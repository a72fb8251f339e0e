import type { ResolvedCookieOptions } from '../../core/cookie.js'
import type { OutgoingCookie } from '../../core/session.js'

/**
 * @internal The session cookie's attributes in the shape frameworks' cookie jars take (`cookie`'s
 * `serialize` options: Next's `cookies().set`, SvelteKit's `event.cookies.set`), for the responses a
 * framework builds itself, where the adapter cannot append a `Set-Cookie` line. Not exported from
 * `ruts/adapter`.
 *
 * @param options - the layer's cookie options
 * @param cookie - what {@link Session.flush} resolved to
 * @returns the attributes, `Max-Age` included; a removal (`maxAge` 0) also carries an `Expires` in 1970
 */
export function jarAttributes(
  options: ResolvedCookieOptions,
  cookie: OutgoingCookie,
): {
  path: string
  secure: boolean
  httpOnly: boolean
  sameSite: 'lax' | 'strict' | 'none'
  partitioned: boolean
  maxAge: number
  domain?: string
  expires?: Date
} {
  const { path, secure, httpOnly, sameSite, partitioned, domain } = options
  return {
    path,
    secure,
    httpOnly,
    sameSite,
    partitioned,
    maxAge: cookie.maxAge,
    ...(domain === undefined ? {} : { domain }),
    ...(cookie.maxAge === 0 ? { expires: new Date(0) } : {}),
  }
}
