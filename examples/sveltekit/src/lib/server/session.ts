import { MemoryStore, SessionLayer } from 'ruts'

/** What this app keeps in a session. */
export type Data = { count: number; user: string }

// MemoryStore keeps sessions in this one process: use RedisStore or PostgresStore (ruts/redis,
// ruts/postgres) once you run more than one server. Secure cookies reach the browser from https://
// and from http://localhost.
export const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { maxAge: 3600 } })
