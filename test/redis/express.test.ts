import { afterAll } from 'vitest'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { expressHarness } from '../helpers/express-harness.js'
import { type ConnectedClient, clientKinds, skipReason, storeFor } from './clients.js'

// The HTTP-level adapter behaviour suite through Express 5, with a RedisStore on every client
// library and topology underneath.
const connected: ConnectedClient[] = []
afterAll(async () => {
  await Promise.all(connected.map((each) => each.close()))
})

for (const kind of clientKinds) {
  describeAdapterBehaviour({
    name: `Express 5 on RedisStore (${kind.name})`,
    start: expressHarness(5),
    skip: skipReason,
    async store() {
      const client = await kind.connect()
      connected.push(client)
      return storeFor(client.client)
    },
  })
}
