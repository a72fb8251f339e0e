import { Router } from 'express'
import type { SessionMiddleware, SessionRequest } from '../../src/adapters/express.js'
import type { SessionInfo, SessionLayer } from '../../src/index.js'
import type { DemoSession } from './app.js'
import { type Html, html, page } from './html.js'

/**
 * The "Your devices" pages: the signed-in user's sessions (`listSiblings`), "Sign out" for one of
 * them by its handle (`layer.sessions.revoke`) and "Sign out everywhere else" (`revokeOthers`).
 *
 * @param layer - the app's session layer (for `layer.sessions`)
 * @param sessions - the app's session middleware (for its typed `route()`)
 * @returns an Express router serving `/devices`
 */
export function devicesRouter(layer: SessionLayer<DemoSession>, sessions: SessionMiddleware<DemoSession>): Router {
  const router = Router()

  router.get(
    '/devices',
    sessions.route(async (req, res) => {
      if ((await req.session.getSubject()) === undefined) return res.redirect(303, '/login')
      const devices = await req.session.listSiblings() // this one marked current, newest activity first
      const user = await req.session.get('user')
      const flash = await req.session.take('flash')
      res.type('html').send(page('your devices', devicesPage(user?.name ?? '', devices, flash)))
    }),
  )

  router.post(
    '/devices/sign-out',
    sessions.route(async (req, res) => {
      const subject = await req.session.getSubject()
      if (subject === undefined) return res.redirect(303, '/login')
      // The handle comes from the page, so it is untrusted: revoke() only ends a session listed under
      // this subject, and answers false (never throws) for another user's, a stale or a forged one.
      const ended = await layer.sessions.revoke(subject, String(req.body?.handle ?? ''))
      await flash(req, ended ? 'Signed out that device.' : 'That device was already signed out.')
      res.redirect(303, '/devices')
    }),
  )

  router.post(
    '/devices/sign-out-others',
    sessions.route(async (req, res) => {
      if ((await req.session.getSubject()) === undefined) return res.redirect(303, '/login')
      const ended = await req.session.revokeOthers() // every session of this user but this one
      await flash(req, `Signed out ${ended} other device${ended === 1 ? '' : 's'}.`)
      res.redirect(303, '/devices')
    }),
  )

  return router
}

function flash(req: SessionRequest<DemoSession>, message: string): Promise<unknown> {
  return req.session.update('flash', message, { ttl: 60 })
}

function devicesPage(name: string, devices: readonly SessionInfo[], flash: string | undefined): Html {
  const others = devices.filter((device) => !device.current).length
  return html`${flash !== undefined && html`<p id="flash">${flash}</p>`}
<h1>Your devices</h1>
<p>Signed in as <b id="user">${name}</b>. Every browser signed in under this name is listed here.</p>
<table id="devices">
  <thead><tr><th>Device</th><th>Signed in</th><th>Last active</th><th></th></tr></thead>
  <tbody>${devices.map(deviceRow)}</tbody>
</table>
${
  others > 0
    ? html`<form method="post" action="/devices/sign-out-others"><button type="submit">Sign out everywhere else</button></form>`
    : html`<p id="alone">No other device is signed in.</p>`
}
<p><small>"Last active" moves when a session is written (a login, a counter visit); reading a page does not move it.</small></p>`
}

function deviceRow(device: SessionInfo): Html {
  // meta is what the login stored; it came from a User-Agent, so it is escaped like anything else.
  const name = typeof device.meta.device === 'string' ? device.meta.device : 'Unknown device'
  const action = device.current
    ? html`<form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : html`<form method="post" action="/devices/sign-out"><input type="hidden" name="handle" value="${device.handle}"><button type="submit">Sign out</button></form>`
  return html`
    <tr class="device"${device.current && html` id="this-device"`}>
      <td>${name}${device.current && html` <strong>(this device)</strong>`}</td>
      <td>${time(device.createdAt)}</td><td>${time(device.lastActiveAt)}</td><td>${action}</td>
    </tr>`
}

function time(date: Date): Html {
  const iso = date.toISOString()
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`
}
