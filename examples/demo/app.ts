import express from 'express'
import { session } from '../../src/adapters/express.js'
import { MemoryStore, SessionLayer } from '../../src/index.js'

/** What the demo keeps in a session. */
export type DemoSession = {
  count: number
  user: { name: string; since: string }
  /** A one-time message, shown by the next page that takes it. */
  flash: string
}

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main>${body}</main>
<nav><a href="/">counter</a> · <a href="/whoami">whoami</a> · <a href="/login">login</a></nav></body></html>`

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

/**
 * The demo app: a visit counter (`increment`: concurrent visits never lose a count) and a login /
 * whoami / logout flow that regenerates the id on login, greets once with a flash message (`take`)
 * and deletes the session on logout.
 *
 * @param layer - the session layer (MemoryStore by default)
 * @returns an Express app
 */
export function createDemoApp(
  layer = new SessionLayer<DemoSession>({ store: new MemoryStore(), cookie: { maxAge: 3600 } }),
) {
  const sessions = session(layer)
  const app = express()
  app.use(express.urlencoded({ extended: false, limit: '2kb' }))
  app.use(sessions)

  app.get(
    '/',
    sessions.route(async (req, res) => {
      const count = await req.session.increment('count')
      res.type('html').send(page('ruts demo', `<h1 id="visits">You've visited this page ${count} times</h1>`))
    }),
  )

  app.get('/login', (_req, res) => {
    res.type('html').send(
      page(
        'login',
        `<form method="post" action="/login"><label>Name <input name="name" required maxlength="40"></label>
         <button type="submit">Log in</button></form>`,
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
        res.status(400).type('html').send(page('login', '<p>A name is required.</p>'))
        return
      }
      // A new id on every privilege change defeats session fixation; the visit count moves along.
      await req.session.regenerate()
      await req.session.update('user', { name, since: new Date().toISOString() })
      await req.session.update('flash', `Welcome, ${name}!`, { ttl: 60 })
      res.redirect(303, '/whoami')
    }),
  )

  app.get(
    '/whoami',
    sessions.route(async (req, res) => {
      const user = await req.session.get('user')
      // Shown once: take reads and removes it in one step, so a reload (or a second tab) shows none.
      const flash = await req.session.take('flash')
      const notice = flash === undefined ? '' : `<p id="flash">${escapeHtml(flash)}</p>`
      const body =
        notice +
        (user
          ? `<p id="who">Logged in as <b>${escapeHtml(user.name)}</b> since ${escapeHtml(user.since)}</p>
           <form method="post" action="/logout"><button type="submit">Log out</button></form>`
          : '<p id="who">Not logged in.</p>')
      res.type('html').send(page('whoami', body))
    }),
  )

  app.post(
    '/logout',
    sessions.route(async (req, res) => {
      await req.session.delete()
      res.redirect(303, '/whoami')
    }),
  )

  return app
}
