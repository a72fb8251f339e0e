import Koa, { type DefaultState, type ParameterizedContext } from 'koa'
import { describe, expectTypeOf, it } from 'vitest'
import { type SessionContext, session } from '../../src/adapters/koa.js'
import { SessionLayer } from '../../src/core/layer.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { koaHarness } from '../helpers/koa-harness.js'

describeAdapterBehaviour({ name: 'Koa 3 on MemoryStore', start: koaHarness(3) })
describeAdapterBehaviour({ name: 'Koa 2 on MemoryStore', start: koaHarness(2) })

describe('Koa adapter typing', () => {
  it('types ctx.session by the layer without declaration merging', async () => {
    type Data = { count: number }
    const layer = new SessionLayer<Data>({ store: new MemoryStore() })
    // Chained after `use(session(layer))`…
    new Koa().use(session(layer)).use(async (ctx) => {
      expectTypeOf(ctx.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
    })
    // …or declared on the app, or on a handler defined on its own.
    const app = new Koa<DefaultState, SessionContext<Data>>()
    app.use(session(layer))
    const handler = async (ctx: ParameterizedContext<DefaultState, SessionContext<Data>>) => {
      // @ts-expect-error wrong value type
      await ctx.session.update('count', 'one')
    }
    app.use(handler)
    await layer.store.close?.()
  })
})
