import { createServer } from 'node:http'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { session } from '../../src/adapters/koa.js'
import type { StartServer } from '../../src/testing/adapter-suite.js'
import { listen } from './listen.js'

/**
 * The adapter suite's harness for Koa: every GET goes to the suite handler; errors take Koa's own
 * error path (`ctx.onerror`).
 *
 * @param major - Koa 2 or 3
 * @returns a StartServer for the suite
 */
export function koaHarness(major: 2 | 3): StartServer {
  const Koa = major === 3 ? Koa3 : Koa2
  return async (layer, handler) => {
    const app = new Koa()
    // Expected 503s in the failure test are not worth a stack trace each.
    app.silent = true
    app.use(session(layer)).use(async (ctx) => {
      const result = await handler(ctx.session, new URL(ctx.url, 'http://localhost'))
      for (const cookie of result.setCookies ?? []) ctx.append('Set-Cookie', cookie)
      if (result.redirect !== undefined) ctx.redirect(result.redirect)
      else {
        ctx.body = JSON.stringify(result.json)
        ctx.type = 'application/json'
        ctx.status = result.status ?? 200
      }
    })
    return listen(createServer(app.callback()))
  }
}
