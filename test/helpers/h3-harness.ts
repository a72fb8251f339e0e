import { createServer } from 'node:http'
import { H3, redirect } from 'h3'
import { toNodeHandler } from 'h3/node'
import {
  appendResponseHeader,
  createApp,
  eventHandler,
  sendRedirect,
  setResponseHeader,
  setResponseStatus,
  toNodeListener,
} from 'h3v1'
import { session } from '../../src/adapters/h3.js'
import type { Session } from '../../src/core/session.js'
import type { StartServer } from '../../src/testing/adapter-suite.js'
import { listen } from './listen.js'

/**
 * The adapter suite's harness for h3 v2 on node:http (through `h3/node`, srvx's Node adapter). The
 * route returns a value for h3 to serialize (headers through `event.res.headers`) or `redirect()`;
 * errors take h3's own error path.
 */
export const h3Harness: StartServer = async (layer, handler) => {
  // silent: h3 logs every unhandled error, and the suite provokes store failures on purpose.
  const app = new H3({ silent: true }).use(session(layer))
  app.get('/**', async (event) => {
    const result = await handler(event.context.session as Session, new URL(event.req.url))
    for (const cookie of result.setCookies ?? []) event.res.headers.append('set-cookie', cookie)
    if (result.redirect !== undefined) return redirect(result.redirect, 302)
    event.res.headers.set('content-type', 'application/json')
    event.res.status = result.status ?? 200
    return JSON.stringify(result.json)
  })
  return listen(createServer(toNodeHandler(app)))
}

/** The adapter suite's harness for h3 v1 on node:http (`toNodeListener`), as Nuxt 3 runs it. */
export const h3v1Harness: StartServer = async (layer, handler) => {
  const app = createApp()
  app.use(session(layer))
  app.use(
    eventHandler(async (event) => {
      const result = await handler(event.context.session as Session, new URL(event.path, 'http://localhost'))
      for (const cookie of result.setCookies ?? []) appendResponseHeader(event, 'set-cookie', cookie)
      if (result.redirect !== undefined) return sendRedirect(event, result.redirect, 302)
      setResponseHeader(event, 'content-type', 'application/json')
      setResponseStatus(event, result.status ?? 200)
      return JSON.stringify(result.json)
    }),
  )
  return listen(createServer(toNodeListener(app)))
}
