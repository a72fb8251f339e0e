import { createServer } from 'node:http'
import express5 from 'express'
import express4 from 'express4'
import { session } from '../../src/adapters/express.js'
import type { SuiteHandler } from '../../src/testing/adapter-routes.js'
import type { StartServer } from '../../src/testing/adapter-suite.js'
import { listen } from './listen.js'

/**
 * The adapter suite's harness for Express: every GET goes to the suite handler; errors take
 * Express's own default error path.
 *
 * @param major - Express 4 or 5
 * @returns a StartServer for the suite
 */
export function expressHarness(major: 4 | 5): StartServer {
  const express = major === 5 ? express5 : (express4 as unknown as typeof express5)
  return async (layer, handler: SuiteHandler) => {
    const sessions = session(layer)
    const app = express()
    app.set('env', 'test')
    app.use(sessions)
    app.get(
      /.*/,
      sessions.route(async (req, res) => {
        const result = await handler(req.session, new URL(req.url, 'http://localhost'))
        for (const cookie of result.setCookies ?? []) res.append('Set-Cookie', cookie)
        if (result.redirect !== undefined) res.redirect(result.redirect)
        else res.status(result.status ?? 200).json(result.json)
      }),
    )
    return listen(createServer(app))
  }
}
