import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli, freePort, IMMEDIATE_FULL_SYNC, type RedisProcess, startRedis, stopAll } from './server.js'

// A Sentinel-managed pair on loopback: primary, one replica, three sentinels (quorum 2), all
// private processes of the test that started them.

/** The name the sentinels monitor the primary under. */
export const MASTER_NAME = 'ruts-primary'

/** A running primary + replica + 3 sentinels. */
export interface SentinelTopology {
  readonly primary: RedisProcess
  readonly replica: RedisProcess
  readonly sentinels: readonly RedisProcess[]
  /** The `host:port` the sentinels currently name as primary. */
  primaryAddress(): Promise<{ host: string; port: number }>
  /** `SENTINEL FAILOVER` (graceful promotion of the replica); resolves once the sentinels agree. */
  failover(): Promise<void>
  /**
   * Resolves once the current primary has its replica online and in sync (writes can be confirmed).
   * @param timeoutMs - how long to wait (after a failover, Sentinel converts the demoted primary only after 8–18 s)
   */
  synced(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function startSentinel(primaryPort: number): Promise<RedisProcess> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'ruts-sentinel-'))
  const config = join(dir, 'sentinel.conf')
  await writeFile(
    config,
    [
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 4000`,
      '',
    ].join('\n'),
  )
  return startRedis({ port, dir, config, args: ['--sentinel'] })
}

/**
 * Start the topology and wait until the replica is in sync and every sentinel sees the replica and
 * the two other sentinels.
 *
 * @returns the running topology
 */
export async function startSentinelTopology(): Promise<SentinelTopology> {
  const primary = await startRedis({ args: IMMEDIATE_FULL_SYNC })
  const started: RedisProcess[] = [primary]
  try {
    const replica = await startRedis({
      args: [...IMMEDIATE_FULL_SYNC, '--replicaof', '127.0.0.1', String(primary.port)],
    })
    started.push(replica)
    await until(async () => (await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 'sync')
    const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(primary.port)))
    started.push(...sentinels)
    for (const sentinel of sentinels) {
      await until(async () => {
        const info = await cli(sentinel.port, 'INFO', 'sentinel')
        return info.includes('slaves=1') && info.includes('sentinels=3')
      }, 'sentinels to see each other')
    }
    const primaryAddress = async () => {
      const [host = '', port = ''] = (
        await cli(sentinels[0]?.port ?? 0, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)
      ).split('\n')
      return { host, port: Number(port) }
    }
    return {
      primary,
      replica,
      sentinels,
      primaryAddress,
      async failover() {
        const before = (await primaryAddress()).port
        // Right after a failover the demoted primary is still resyncing and Sentinel refuses
        // (NOGOODSLAVE, INPROG): ask again until the sentinels name another primary.
        await until(
          async () => {
            await cli(sentinels[0]?.port ?? 0, 'SENTINEL', 'FAILOVER', MASTER_NAME)
            const deadline = Date.now() + 3_000
            while (Date.now() < deadline) {
              if ((await primaryAddress()).port !== before) return true
              await new Promise((resolve) => setTimeout(resolve, 100))
            }
            return false
          },
          'the failover',
          40_000,
        )
      },
      async synced(timeoutMs = 20_000) {
        await until(
          async () => {
            const { port } = await primaryAddress()
            const follower = port === primary.port ? replica : primary
            const info = await cli(follower.port, 'INFO', 'replication')
            return info.includes(`master_port:${port}`) && info.includes('master_link_status:up')
          },
          'the replica to sync with the current primary',
          timeoutMs,
        )
      },
      stop: () => stopAll(started),
    }
  } catch (error) {
    await stopAll(started)
    throw error
  }
}
