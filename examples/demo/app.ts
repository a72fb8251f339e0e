import express from 'express'
import { session } from '../../src/adapters/express.js'
import { MemoryStore, SessionLayer } from '../../src/index.js'
import { rejectCrossOriginWrites } from './cross-site.js'
import { devicesRouter } from './devices.js'
import { html, page } from './html.js'
import { describeDevice } from './user-agent.js'

/** What the demo keeps in a session. */
export type DemoSession = {
  count: number
  user: { name: string; since: string }
  /** A one-time message, shown by the next page that takes it. */
  flash: string
}

/**
 * The demo app: a visit counter (`increment`: concurrent visits never lose a count), a login that
 * binds the session to the user (`setSubject`, which also gives it a new id), a "Your devices" page
 * that lists the user's sessions and signs them out, a one-time greeting (`take`) and a logout that
 * deletes the session.
 *
 * @param layer - the session layer (MemoryStore by default; any store with subjects works)
 * @returns an Express app
 *
 * @example
 * ```ts
 * createDemoApp().listen(3000)
 * ```
 */
export function createDemoApp(
  layer = new SessionLayer<DemoSession>({ store: new MemoryStore(), cookie: { maxAge: 3600 } }),
) {
  const sessions = session(layer)
  const app = express()
  app.disable('x-powered-by') // no framework banner for scanners
  // Defence in depth behind the escaping (html.ts): the pages have no script, so none may run; no
  // other site may frame them; forms may only post here.
  app.use((_req, res, next) => {
    res.set(
      'content-security-policy',
      "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    next()
  })
  app.use(rejectCrossOriginWrites) // CSRF: see cross-site.ts
  app.use(express.urlencoded({ extended: false, limit: '2kb' }))
  app.use(sessions)
  app.use(devicesRouter(layer, sessions))

  app.get(
    '/',
    sessions.route(async (req, res) => {
      const count = await req.session.increment('count')
      res.type('html').send(page('ruts demo', html`<h1 id="visits">You've visited this page ${count} times</h1>`))
    }),
  )

  app.get('/login', (_req, res) => {
    res.type('html').send(
      page(
        'login',
        html`<form method="post" action="/login"><label>Name <input name="name" required maxlength="40"></label>
         <button type="submit">Log in</button></form>
         <p>There is no password: this demo signs in whoever types a name, so anyone can be anyone. A real
         app checks a password or a passkey first. Log in with the same name in a second browser (or a
         private window) and both show up under "Your devices".</p>`,
      ),
    )
  })

  app.post(
    '/login',
    sessions.route(async (req, res) => {
      const name = String(req.body?.name ?? '')
        .trim()
        .slice(0, 40)
      if (name === '') {
        res.status(400).type('html').send(page('login', html`<p>A name is required.</p>`))
        return
      }
      // One call binds the session to the user and moves it to a new id (no session fixation); the
      // visit count moves along. The device label is all the devices page needs from the User-Agent.
      await req.session.setSubject(`user:${name}`, { meta: { device: describeDevice(req.get('user-agent')) } })
      await req.session.update('user', { name, since: new Date().toISOString() })
      await req.session.update('flash', `Welcome, ${name}!`, { ttl: 60 })
      res.redirect(303, '/devices')
    }),
  )

  app.get(
    '/whoami',
    sessions.route(async (req, res) => {
      const user = await req.session.get('user')
      // Shown once: take reads and removes it in one step, so a reload (or a second tab) shows none.
      const flash = await req.session.take('flash')
      const body = html`${flash !== undefined && html`<p id="flash">${flash}</p>`}${
        user
          ? html`<p id="who">Logged in as <b>${user.name}</b> since ${user.since}</p>
           <p><a href="/devices">Your devices</a></p>
           <form method="post" action="/logout"><button type="submit">Log out</button></form>`
          : html`<p id="who">Not logged in.</p>`
      }`
      res.type('html').send(page('whoami', body))
    }),
  )

  app.post(
    '/logout',
    sessions.route(async (req, res) => {
      await req.session.delete() // also leaves the user's device list
      res.redirect(303, '/whoami')
    }),
  )

  return app
}
