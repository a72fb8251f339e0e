import type { ResolvedCookieOptions } from '../../core/cookie.js'
import type { OutgoingCookie } from '../../core/session.js'

/** A `Set-Cookie` line ruts wrote, as the name, value and options a cookie jar's `set` takes. */
export interface JarCookie {
  name: string
  value: string
  options: {
    path: string
    httpOnly: boolean
    secure: boolean
    partitioned: boolean
    maxAge?: number
    expires?: Date
    domain?: string
    sameSite?: 'lax' | 'strict' | 'none'
  }
}

/**
 * @internal The session cookie's attributes in the shape frameworks' cookie jars take (`cookie`'s
 * `serialize` options: Next's `cookies().set` in Server Actions), for a cookie that must go out
 * through the jar rather than as a `Set-Cookie` line. Not exported from `ruts/adapter`.
 *
 * @param options - the layer's cookie options
 * @param cookie - what {@link Session.flush} resolved to
 * @returns the attributes, `Max-Age` included; a removal (`maxAge` 0) also carries an `Expires` in 1970
 */
export function jarAttributes(
  options: ResolvedCookieOptions,
  cookie: OutgoingCookie,
): JarCookie['options'] & Required<Pick<JarCookie['options'], 'sameSite' | 'maxAge'>> {
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

/**
 * @internal Read back a `Set-Cookie` line that `Session.commit()` produced (the session cookie, its
 * removal, or a legacy cookie's removal), so it can go out through a framework's cookie jar with the
 * same attributes. Every attribute is given explicitly: jars default `HttpOnly` and `Secure` on.
 *
 * @param line - one line `commit()` resolved to
 * @returns its parts
 */
export function jarCookie(line: string): JarCookie {
  const [pair = '', ...attributes] = line.split('; ')
  const equals = pair.indexOf('=')
  const cookie: JarCookie = {
    name: pair.slice(0, equals),
    value: pair.slice(equals + 1),
    options: { path: '/', httpOnly: false, secure: false, partitioned: false },
  }
  for (const attribute of attributes) {
    const equals = attribute.indexOf('=')
    const key = equals === -1 ? attribute : attribute.slice(0, equals)
    const value = equals === -1 ? '' : attribute.slice(equals + 1)
    switch (key.toLowerCase()) {
      case 'max-age':
        cookie.options.maxAge = Number(value)
        break
      case 'expires':
        cookie.options.expires = new Date(value)
        break
      case 'path':
        cookie.options.path = value
        break
      case 'domain':
        cookie.options.domain = value
        break
      case 'samesite':
        cookie.options.sameSite = value.toLowerCase() as 'lax' | 'strict' | 'none'
        break
      case 'httponly':
        cookie.options.httpOnly = true
        break
      case 'secure':
        cookie.options.secure = true
        break
      case 'partitioned':
        cookie.options.partitioned = true
        break
    }
  }
  return cookie
}
