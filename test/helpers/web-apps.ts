// Web-standard suite apps shared by the Node harnesses and the Bun/Deno servers in test/runtimes/:
// nothing here may import a Node-only module.
import { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { type SessionEnv, session } from '../../src/adapters/hono.js'
import { withSession } from '../../src/adapters/web.js'
import { SessionStoreError } from '../../src/core/errors.js'
import type { SessionLayer } from '../../src/core/layer.js'
import type { SuiteHandler } from '../../src/testing/adapter-routes.js'
import { suiteResponse } from '../../src/testing/server.js'

/**
 * @param layer - the suite's layer
 * @param handler - the suite handler
 * @returns a Hono app routing every GET to the handler; errors get Hono's default answer (500),
 *   which the adapter turns into 503 for a store failure
 */
export function honoSuiteApp(layer: SessionLayer, handler: SuiteHandler): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  // An onError as apps write it: `c.text`, which merges in the headers the handler set (so the suite
  // sees whether the adapter keeps the handler's cookies out of a store failure's 503). Store
  // failures are provoked on purpose, so they are not logged; the adapter turns their 500 into 503.
  app.onError((error, c) => {
    if (!(error instanceof SessionStoreError)) console.error(error)
    return c.text('Internal Server Error', 500)
  })
  app.use(session(layer))
  app.get('*', async (c) => {
    const result = await handler(c.get('session'), new URL(c.req.url))
    for (const cookie of result.setCookies ?? []) c.header('set-cookie', cookie, { append: true })
    return result.redirect !== undefined
      ? c.redirect(result.redirect, 302)
      : c.json(result.json, (result.status ?? 200) as ContentfulStatusCode)
  })
  return app
}

/**
 * @param layer - the suite's layer
 * @param handler - the suite handler
 * @returns a `withSession` handler answering every GET with plain `Response`s; redirects use
 *   `Response.redirect`, whose headers are immutable, so the adapter's copy path is exercised
 */
export function webSuiteHandler(layer: SessionLayer, handler: SuiteHandler): (request: Request) => Promise<Response> {
  return withSession(layer, async (request, session) =>
    suiteResponse(await handler(session, new URL(request.url)), request),
  )
}
