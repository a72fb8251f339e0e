import type { NextFunction, Request, Response } from 'express'
import { html, page } from './html.js'

// CSRF: the demo's POST forms (log in, log out, sign a device out, sign out everywhere else) must not
// be triggerable by another site. Two independent layers:
//
// 1. The session cookie is SameSite=Lax (the layer's default): a browser does not send it with a
//    POST that another site starts, so such a POST carries no session and cannot act on one.
// 2. This check, which also covers what SameSite cannot: a sibling subdomain is "same-site", and a
//    login form needs no cookie to be abused (logging the victim into the attacker's account). Every
//    browser of the last years sends `Sec-Fetch-Site` (Fetch Metadata) and `Origin` on a POST; a
//    request that says it came from another origin is refused before any session work.
//
// A request with neither header is not from a current browser (curl, a server-side client), which is
// no CSRF vector: it is let through. This is the algorithm of Go 1.25's http.CrossOriginProtection,
// and it needs no per-form token, so the pages stay plain HTML. An app behind a proxy that rewrites
// `Host` must compare `Origin` with its public origin instead.

/**
 * Express middleware that answers 403 to a state-changing request (anything but GET, HEAD, OPTIONS)
 * a browser reports as started by another origin.
 *
 * @param req - the request
 * @param res - the response
 * @param next - the next handler
 */
export function rejectCrossOriginWrites(req: Request, res: Response, next: NextFunction): void {
  const safeMethod = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS'
  if (safeMethod || isSameOrigin(req.get('sec-fetch-site'), req.get('origin'), req.get('host'))) {
    next()
    return
  }
  res
    .status(403)
    .type('html')
    .send(page('forbidden', html`<p id="error">Refused: this form was sent from another site.</p>`))
}

/**
 * @param fetchSite - the `Sec-Fetch-Site` header
 * @param origin - the `Origin` header
 * @param host - the `Host` header
 * @returns whether the request may come from this origin (or from no browser at all)
 */
function isSameOrigin(fetchSite: string | undefined, origin: string | undefined, host: string | undefined): boolean {
  // 'none': the user started it (typed URL, bookmark); anything else ('same-site', 'cross-site') is another origin.
  if (fetchSite !== undefined) return fetchSite === 'same-origin' || fetchSite === 'none'
  if (origin === undefined) return true
  try {
    return new URL(origin).host === host
  } catch {
    return false // 'null' (a sandboxed frame, a privacy-sensitive redirect) or garbage
  }
}
