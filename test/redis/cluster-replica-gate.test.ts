import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ReplicatedCluster, startReplicatedCluster } from '../faults/cluster.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import { bytes, describeRedis, randomKey, redisKey, storeFor, text, uniquePrefix } from './clients.js'
import { type PrivateClusterKind, privateClusterKinds } from './private-cluster-clients.js'
import { ownerOf, whileFrozen } from './server.js'

const create = writeOptionsFor('create', 600)

// A WAIT blocks its connection for its whole timeout. On a Cluster the store keeps one gate per
// master: while one master's replica cannot confirm, writes to that master go out one at a time and
// the others fail at once, unsent, so reads of that master's sessions keep answering, and writes to
// the other masters are not held back at all. A private 3 + 3 cluster: its replica is frozen.
describeRedis('RedisStore waitForReplicas on a Cluster while one master cannot get writes confirmed', () => {
  let cluster: ReplicatedCluster
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  /**
   * A client of `kind`, and two stores over it with one prefix: `durable` waits long enough for any
   * write to be confirmed, `store` gives up quickly (WAIT 400 ms). Also a master and its replica.
   */
  async function connect(kind: PrivateClusterKind) {
    const ports = cluster.running().map((node) => node.port)
    const { client, close } = await kind.connect(ports)
    const prefix = uniquePrefix()
    const durable = storeFor(client, { prefix, timeout: 8000, waitForReplicas: { replicas: 1, timeout: 6000 } })
    const store = storeFor(client, { prefix, timeout: 1500, waitForReplicas: { replicas: 1, timeout: 400 } })
    const { master, replica } = await cluster.pair()
    return { ports, prefix, durable, store, master, replica, close }
  }

  it.each(privateClusterKinds)(
    'holds back only that master’s writes, and reads of its sessions keep answering ($name)',
    async (kind) => {
      const { ports, prefix, durable, store, master, replica, close } = await connect(kind)
      try {
        // Keys on the master whose replica freezes, and on the others.
        const onMaster: string[] = []
        const elsewhere: string[] = []
        while (onMaster.length < 10 || elsewhere.length < 4) {
          const key = randomKey()
          const list = (await ownerOf(ports, redisKey(prefix, key))) === master.port ? onMaster : elsewhere
          list.push(key)
        }
        const [known = '', shutter = '', ...held] = onMaster.slice(0, 10)
        expect(await durable.write(known, 'user', bytes('ada'), create)).toMatchObject({ status: 'written' })

        const finished: number[] = []
        const [held$, elsewhere$, reads$] = await whileFrozen(replica.port, async () => {
          // The first unconfirmed write shuts that master's gate.
          await expect(store.write(shutter, 'user', bytes('x'), create)).rejects.toMatchObject({
            code: 'ERR_SESSION_STORE',
          })
          const started = performance.now()
          return Promise.all([
            Promise.allSettled(
              held.map((key) =>
                store
                  .write(key, 'user', bytes('grace'), create)
                  .finally(() => finished.push(performance.now() - started)),
              ),
            ),
            Promise.allSettled(elsewhere.map((key) => store.write(key, 'user', bytes('grace'), create))),
            Promise.allSettled(Array.from({ length: 4 }, () => store.get(known, 'user'))),
          ])
        })
        // That master's writes failed, all but one probe without waiting; without a gate per
        // master the eight WAITs ran one after another (3.2 s) and the reads timed out at 1.5 s.
        expect(held$.map((outcome) => outcome.status)).toEqual(held.map(() => 'rejected'))
        expect(finished.filter((ms) => ms < 200).length).toBeGreaterThanOrEqual(held.length - 1)
        expect(reads$.map((read) => read.status === 'fulfilled' && (read.value as { live: boolean }).live)).toEqual([
          true,
          true,
          true,
          true,
        ])
        // The other masters' replicas confirm: their writes went through.
        expect(elsewhere$.map((outcome) => outcome.status)).toEqual(elsewhere.map(() => 'fulfilled'))
        // What was turned away was never sent: at most the probe's key exists.
        const written = await Promise.all(held.map((key) => durable.get(key, 'user')))
        expect(written.filter((read) => read.live).length).toBeLessThanOrEqual(1)
      } finally {
        await close()
      }
    },
    60_000,
  )

  // A regenerate's first step, and a login's (a bind that moves the session), takes the session from
  // its old key (a tombstone stays). When that step ran but its WAIT came back unconfirmed, the store
  // reports the failure, and without putting the session back its user was signed out although the
  // new id was never placed.
  const moves = privateClusterKinds.flatMap((kind) =>
    (['rename', 'bind'] as const).map((operation) => ({ name: kind.name, kind, operation })),
  )
  it.each(moves)(
    'a $operation whose first step is not confirmed leaves the session at its old id ($name)',
    async ({ kind, operation }) => {
      const { ports, prefix, durable, store, master, replica, close } = await connect(kind)
      try {
        let from = randomKey()
        while ((await ownerOf(ports, redisKey(prefix, from))) !== master.port) from = randomKey()
        const to = randomKey()
        expect(await durable.write(from, 'user', bytes('ada'), create)).toMatchObject({ status: 'written' })
        const move = () =>
          operation === 'rename'
            ? store.rename(from, to)
            : store.bind(to, { session: 'existing', renameFrom: from, subject: 'user:1', meta: '{}', sessionTtl: 600 })
        const failed = await whileFrozen(replica.port, () => move().catch((error: unknown) => error))
        expect(failed).toMatchObject({ code: 'ERR_SESSION_STORE' })
        const read = await durable.get(from, 'user')
        expect(read.live ? text(read.value) : 'signed out').toBe('ada')
        expect(await durable.get(to, 'user')).toMatchObject({ live: false })
      } finally {
        await close()
      }
    },
    60_000,
  )
})
