// h3 2 with ruts/h3: a visit counter and a login that regenerates the id. Run: npx tsx examples/h3/server.ts
import { H3, type H3Event, readBody, redirect, serve } from 'h3'
import { session } from '../../src/adapters/h3.js'
import { MemoryStore, type Session, SessionLayer } from '../../src/index.js'

type Data = { count: number; user: string }
// An app types event.context.session once with `declare module 'h3' { interface H3EventContext {
// session: Session<Data> } }`; this example shares a type-check with the repo's tests, so it reads it
// through a helper instead.
const sessionOf = (event: H3Event) => event.context.session as Session<Data>

const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { maxAge: 3600 } })
const app = new H3().use(session(layer))

app.get('/', async (event) => {
  const count = ((await sessionOf(event).get('count')) ?? 0) + 1
  await sessionOf(event).update('count', count)
  return { count, user: (await sessionOf(event).get('user')) ?? null }
})

app.post('/login', async (event) => {
  const body = await readBody<{ name?: string }>(event)
  await sessionOf(event).update('user', body?.name ?? 'anonymous')
  await sessionOf(event).regenerate()
  return redirect('/', 303)
})

app.post('/logout', async (event) => {
  await sessionOf(event).delete()
  return redirect('/', 303)
})

serve(app, { port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' })
