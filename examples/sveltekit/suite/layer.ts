import { MemoryStore, SessionLayer } from 'ruts'
import { countingStore } from 'ruts/testing/server'

/** The adapter behaviour suite's counting MemoryStore. */
export const store = countingStore(new MemoryStore())

/** The suite's layer: `maxAge` as the suite asks. */
export const layer = new SessionLayer({ store, cookie: { maxAge: Number(process.env.RUTS_SUITE_MAX_AGE ?? 3600) } })
