import Fastify from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import { fastifySession, sessionRoute } from '../../src/adapters/fastify.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { fastifyHarness } from '../helpers/fastify-harness.js'

describeAdapterBehaviour({ name: 'Fastify 5 on MemoryStore', start: fastifyHarness })

describe('Fastify adapter typing', () => {
  it('types request.session by the layer, with the route generics, without declaration merging', async () => {
    const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
    const app = Fastify()
    await app.register(fastifySession, { layer })
    app.get<{ Params: { id: string } }>(
      '/:id',
      sessionRoute(layer, async (request) => {
        expectTypeOf(request.params.id).toEqualTypeOf<string>()
        expectTypeOf(request.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
        // @ts-expect-error unknown field
        await request.session.get('missing')
        return 'ok'
      }),
    )
    await app.close()
    await layer.store.close?.()
  })
})
