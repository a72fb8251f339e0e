import { MemoryStore, SessionLayer } from 'ruts'
import { type CountingStore, countingStore } from 'ruts/testing/server'

// Next bundles route handlers and pages separately, each with its own copy of this module (and of
// ruts): keep the one store on globalThis so every route of the server sees the same sessions and
// counts, and give each bundle its own layer, so a session's errors are the SessionError class that
// bundle imports.
const shared = globalThis as { rutsSuiteStore?: CountingStore }
shared.rutsSuiteStore ??= countingStore(new MemoryStore())

/** The adapter behaviour suite's counting MemoryStore. */
export const store: CountingStore = shared.rutsSuiteStore

/** The suite's layer: `maxAge` as the suite asks. */
export const layer = new SessionLayer({ store, cookie: { maxAge: Number(process.env.RUTS_SUITE_MAX_AGE ?? 3600) } })
