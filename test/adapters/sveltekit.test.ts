import { describe, expect, it } from 'vitest'
import { type SessionRequestEvent, session } from '../../src/adapters/sveltekit.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { Session } from '../../src/core/session.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { countingStore, UNREACHABLE_FIELD } from '../../src/testing/counting-store.js'

// The hook on its own, for what the example app's build (test/frameworks/sveltekit.test.ts) does not
// switch on: remote functions are experimental in SvelteKit 2 (`kit.experimental.remoteFunctions`).
// Their calls answer 200 and report an error in the body, as SvelteKit's remote.js does.
const layer = new SessionLayer({ store: countingStore(new MemoryStore()) })
const hook = session(layer)

/** A remote function's call that writes the session, meets a store failure, and reports `status`. */
async function remoteCall(status: number): Promise<Response> {
  const url = new URL('http://localhost/_app/remote/abc/save')
  const event: SessionRequestEvent = {
    request: new Request(url, { method: 'POST', body: '{}' }),
    url,
    locals: {},
    isRemoteRequest: true,
  }
  return hook({
    event,
    resolve: async ({ locals }) => {
      const handle = (locals as { session: Session }).session
      await handle.update('user', 'ada')
      await handle.get(UNREACHABLE_FIELD).catch(() => undefined)
      return Response.json({ type: 'error', error: { message: 'Internal Error' }, status })
    },
  })
}

describe('SvelteKit hook: remote functions', () => {
  it('answers 503 without a cookie when a call met a store failure and SvelteKit reports a 500 inside a 200', async () => {
    const response = await remoteCall(500)
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('keeps the 200 and its cookie when the reported error is a client error (the app chose the answer)', async () => {
    const response = await remoteCall(401)
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^session=[A-Za-z0-9_-]{22}; /)])
  })
})
