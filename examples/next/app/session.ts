import { MemoryStore, SessionLayer } from 'ruts'

/** What this app keeps in a session. */
export type Data = { count: number; user: string }

// Next.js evaluates this module once per route bundle, so an in-process MemoryStore is shared through
// globalThis. MemoryStore keeps sessions in this one process: use RedisStore or PostgresStore
// (ruts/redis, ruts/postgres) once you run more than one server; they need no such sharing.
const memory = globalThis as { sessionStore?: MemoryStore }
memory.sessionStore ??= new MemoryStore()

/** The app's session layer. Secure cookies reach the browser from https:// and http://localhost. */
export const layer = new SessionLayer<Data>({
  store: memory.sessionStore,
  cookie: { maxAge: 3600 },
})
