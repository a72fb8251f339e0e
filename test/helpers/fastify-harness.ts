import Fastify from 'fastify'
import { fastifySession, sessionRoute } from '../../src/adapters/fastify.js'
import type { StartServer } from '../../src/testing/adapter-suite.js'

/**
 * The adapter suite's harness for Fastify 5: every GET goes to the suite handler; errors take
 * Fastify's default error handler.
 */
export const fastifyHarness: StartServer = async (layer, handler) => {
  const app = Fastify({ logger: false })
  await app.register(fastifySession, { layer })
  app.get(
    '/*',
    sessionRoute(layer, async (request, reply) => {
      const result = await handler(request.session, new URL(request.url, 'http://localhost'))
      for (const cookie of result.setCookies ?? []) reply.header('set-cookie', cookie)
      if (result.redirect !== undefined) return reply.redirect(result.redirect, 302)
      // A bare string would go out as text/plain; the suite reads every body as JSON.
      return reply
        .code(result.status ?? 200)
        .type('application/json')
        .send(JSON.stringify(result.json))
    }),
  )
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}
