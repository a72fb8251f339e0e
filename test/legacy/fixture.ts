import { createHmac } from 'node:crypto'
import { SessionLayer, type SessionLayerOptions } from '../../src/core/layer.js'
import {
  type ExpressSessionStore,
  type LegacySessionsOptions,
  legacySessions,
} from '../../src/legacy/express-session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore } from '../../src/testing/counting-store.js'
import { expressSession, type LegacyStoreHandle } from './modules.js'

/** Sign a sid as express-session does (`s:` + cookie-signature) and URL-encode it as its cookie is. */
export function legacyCookieValue(sid: string, secret: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')
  return encodeURIComponent(`s:${sid}.${signature}`)
}

/** express-session's own MemoryStore, with every call counted and failures injectable. */
export interface LegacyStore extends ExpressSessionStore {
  readonly inner: LegacyStoreHandle
  calls: { get: number; destroy: number }
  /** Fail `get` or `destroy` with this error, or hang them (never call back); `late`: destroy, then hang. */
  fault: { get?: Error | 'hang'; destroy?: Error | 'hang' | 'late' }
  put(sid: string, data: Record<string, unknown>, maxAgeMs?: number): Promise<void>
  read(sid: string): Promise<object | null | undefined>
}

/** @returns a counting, fault-injectable wrapper over a real express-session MemoryStore */
export function legacyStore(): LegacyStore {
  const inner = new expressSession.MemoryStore()
  const store: LegacyStore = {
    inner,
    calls: { get: 0, destroy: 0 },
    fault: {},
    get(sid, callback) {
      store.calls.get++
      const fault = store.fault.get
      if (fault === 'hang') return
      if (fault !== undefined) return callback(fault)
      inner.get(sid, callback)
    },
    destroy(sid, callback) {
      store.calls.destroy++
      const fault = store.fault.destroy
      if (fault === 'hang') return
      if (fault === 'late') return inner.destroy(sid)
      if (fault !== undefined) return callback?.(fault)
      inner.destroy(sid, callback)
    },
    put: (sid, data, maxAgeMs = 3_600_000) =>
      new Promise((resolve, reject) => {
        const cookie = { originalMaxAge: maxAgeMs, expires: new Date(Date.now() + maxAgeMs), httpOnly: true, path: '/' }
        inner.set(sid, { ...data, cookie }, (error) => (error ? reject(error) : resolve()))
      }),
    read: (sid) => new Promise((resolve) => inner.get(sid, (_, session) => resolve(session))),
  }
  return store
}

/** The secret every fixture uses: express-session's README default, far below ruts' 32 characters. */
export const LEGACY_SECRET = 'keyboard cat'

/**
 * A layer on a counting MemoryStore with express-session's MemoryStore as the legacy source.
 *
 * @param options - legacySessions overrides
 * @param layerOptions - layer overrides
 * @returns the layer, both stores, and a one-request helper
 */
export function legacySetup(
  options: Partial<LegacySessionsOptions> = {},
  layerOptions: Partial<SessionLayerOptions> = {},
) {
  const legacy = legacyStore()
  const memory = new MemoryStore()
  const store = countingStore(memory)
  const layer = new SessionLayer({
    store,
    cookie: { maxAge: 3600 },
    legacy: legacySessions({ store: legacy, secret: LEGACY_SECRET, ...options }),
    ...layerOptions,
  })
  /** One request carrying `cookie` as its Cookie header; returns the handler's result and Set-Cookie lines. */
  const request = async (cookie: string | undefined, act: (session: ReturnType<typeof layer.open>) => unknown) => {
    const session = layer.open(cookie)
    const result = await act(session)
    const committed = await session.commit()
    const lines = committed === undefined ? [] : typeof committed === 'string' ? [committed] : [...committed]
    return { result, lines, session }
  }
  return { legacy, memory, store, layer, request }
}

/**
 * @param lines - Set-Cookie lines
 * @param name - cookie name
 * @returns the value set for `name` (empty for a removal), or `undefined` when absent
 */
export function cookieFrom(lines: readonly string[], name: string): string | undefined {
  const line = lines.find((each) => each.startsWith(`${name}=`))
  return line?.slice(name.length + 1, line.indexOf(';'))
}
