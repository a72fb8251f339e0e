import { Redis } from 'ioredis'
import { afterAll, expect, it } from 'vitest'
import { createScriptRunner, UnconfirmedWriteError } from '../../src/stores/redis/runner.js'
import { GIVE_BACK, TAKE } from '../../src/stores/redis/write-scripts.js'
import { describeRedis, redis, uniquePrefix } from './clients.js'
import { cli } from './server.js'

// A give-back undoes a Cluster move's first step after its second failed. With `waitForReplicas`, the
// failure is often the replicas not confirming; the give-back must still go out at once (past the
// replica gate that holds other writes) and without a `WAIT` of its own, or the session stays taken
// and its user signed out. A standalone primary with no replica never confirms: every write's `WAIT`
// answers 0 after its timeout.

describeRedis('a give-back while replicas do not confirm writes', () => {
  const port = redis.available ? redis.standalone.port : 0
  const client = new Redis({ port, lazyConnect: true })
  afterAll(() => client.disconnect())
  const waits = async () => {
    const stats = await cli(port, 'INFO', 'commandstats')
    return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0)
  }

  it('goes out past the replica gate, without a WAIT', async () => {
    await client.connect()
    const runner = createScriptRunner(client, { replicas: 1, timeout: 300 })
    const prefix = uniquePrefix()
    const take = (name: string) => ({ key: `${prefix}${name}`, token: 't', to: `${prefix}to`, hold: 1000 })
    // The first write comes back unconfirmed: from now on one probe at a time, the others held.
    await expect(runner.run(TAKE, take('a'))).rejects.toBeInstanceOf(UnconfirmedWriteError)
    const before = await waits()
    const probe = runner.run(TAKE, take('b'))
    probe.catch(() => undefined)
    await expect(runner.run(TAKE, take('c'))).rejects.toThrow('this one was not sent')
    // While the probe is out, a give-back still goes. No tombstone of that token is at its key, so
    // there is nothing to restore, and the reply says so.
    const given = await runner.run(GIVE_BACK, { key: `${prefix}d`, token: 't', taken: ['0', '0'] })
    expect(given).toEqual({ status: 'missing' })
    await expect(probe).rejects.toBeInstanceOf(UnconfirmedWriteError)
    // One WAIT for the probe; none for the held write or the give-back.
    expect((await waits()) - before).toBe(1)
  })
})
