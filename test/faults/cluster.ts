import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { cli, IMMEDIATE_FULL_SYNC, type RedisProcess, startEach, startRedis, stopAll } from '../redis/server.js'

const run = promisify(execFile)

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  id: string
  port: number
  master: boolean
  failed: boolean
  /** The master's id, for a replica. */
  of: string | undefined
}

/** A Redis Cluster of 3 masters, each with one replica, on loopback. */
export interface ReplicatedCluster {
  readonly processes: RedisProcess[]
  /** Ports of every node still running (startup nodes for a client). */
  running(): { host: string; port: number }[]
  /** The cluster's view from a running node. */
  nodes(): Promise<ClusterNode[]>
  /** A live master and its live replica. */
  pair(): Promise<{ master: ClusterNode; replica: ClusterNode }>
  /** Wait until every running node reports `cluster_state:ok` and `port` is a master. */
  settled(port: number): Promise<void>
  /** Start a stopped node again (same port and nodes.conf): it rejoins as a replica. */
  restart(port: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Poll until `check` holds.
 *
 * @param check - the condition (a thrown error counts as not yet)
 * @param what - for the timeout message
 * @param timeoutMs - how long to wait
 */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function parseNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', of = '-'] = line.split(' ')
      return {
        id,
        port: Number(address.split('@')[0]?.split(':')[1]),
        master: flags.includes('master'),
        failed: flags.includes('fail'),
        of: of === '-' ? undefined : of,
      }
    })
}

/**
 * Start six cluster-mode servers and join them as 3 masters + 3 replicas; resolves once every
 * replica is in sync.
 *
 * @returns the cluster
 */
export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const processes = await startEach(Array.from({ length: 6 }, () => ({ cluster: true, args: IMMEDIATE_FULL_SYNC })))
  const stopped = new Set<RedisProcess>()
  const running = () => processes.filter((each) => !stopped.has(each))
  const cluster: ReplicatedCluster = {
    processes,
    running: () => running().map((each) => ({ host: '127.0.0.1', port: each.port })),
    async nodes() {
      const [first] = running()
      return parseNodes(await cli(first?.port ?? 0, 'CLUSTER', 'NODES'))
    },
    async pair() {
      const nodes = await cluster.nodes()
      const replica = nodes.find((node) => !node.master && !node.failed && node.of !== undefined)
      const master = nodes.find((node) => node.id === replica?.of && !node.failed)
      if (master === undefined || replica === undefined) throw new Error('no live master with a replica')
      return { master, replica }
    },
    async settled(port) {
      await until(async () => {
        for (const each of running()) {
          if (!(await cli(each.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
        }
        return (await cli(port, 'INFO', 'replication')).includes('role:master')
      }, 'the cluster to settle')
    },
    async restart(port) {
      const old = processes.find((each) => each.port === port)
      if (old === undefined) throw new Error(`no node on ${port}`)
      const revived = await startRedis({ port, dir: old.dir, cluster: true, args: IMMEDIATE_FULL_SYNC })
      processes.splice(processes.indexOf(old), 1, revived)
      stopped.delete(old)
      await until(
        async () => (await cli(port, 'INFO', 'replication')).includes('master_link_status:up'),
        'the restarted node to sync',
      )
    },
    stop: () => stopAll(processes),
  }
  // kill -9 goes through RedisProcess.stop(true); remember it so running() skips the node.
  for (const each of processes) {
    const stop = each.stop.bind(each)
    Object.assign(each, {
      stop: async (hard?: boolean) => {
        stopped.add(each)
        await stop(hard)
      },
    })
  }
  try {
    const addresses = processes.map((each) => `127.0.0.1:${each.port}`)
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'])
    await until(async () => {
      for (const each of processes) {
        if (!(await cli(each.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
        const replication = await cli(each.port, 'INFO', 'replication')
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false
      }
      return (await cluster.nodes()).filter((node) => !node.master).length === 3
    }, 'cluster_state:ok with 3 replicas in sync')
    return cluster
  } catch (error) {
    await stopAll(processes)
    throw error
  }
}

/**
 * Move the slots that hold keys matching `pattern` from one master to another, one slot at a time
 * and slowly enough that clients meet ASK redirections mid-migration: IMPORTING on the target,
 * MIGRATING on the source, MIGRATE in small batches, then the slot is assigned to the target
 * everywhere.
 *
 * @param cluster - the cluster
 * @param pattern - a SCAN pattern for the keys in use
 * @param limit - at most this many slots
 * @returns how many slots and keys moved
 */
export async function migrateBusySlots(
  cluster: ReplicatedCluster,
  pattern: string,
  limit: number,
): Promise<{ slots: number; keys: number }> {
  const masters = (await cluster.nodes()).filter((node) => node.master && !node.failed)
  const [from, to] = masters
  if (from === undefined || to === undefined) throw new Error('need two masters')
  const found = (await cli(from.port, '--scan', '--pattern', pattern)).split('\n')
  const slots = new Set<number>()
  for (const key of found.filter(Boolean)) {
    if (slots.size >= limit) break
    slots.add(Number(await cli(from.port, 'CLUSTER', 'KEYSLOT', key)))
  }
  let moved = 0
  for (const slot of slots) {
    await cli(to.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id)
    await cli(from.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (;;) {
      const keys = (await cli(from.port, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '10')).split('\n').filter(Boolean)
      if (keys.length === 0) break
      await cli(from.port, 'MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys)
      moved += keys.length
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    for (const master of masters) await cli(master.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
  }
  return { slots: slots.size, keys: moved }
}
