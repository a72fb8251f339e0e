import type { TestProject } from 'vitest/node'
import { missingRedisBinaries, type RedisProcess, startCluster, startRedis, stopAll } from '../redis/server.js'

/** How test files reach the Redis servers this setup started (see `inject('redis')`). */
export type RedisEnvironment =
  | { available: true; standalone: { host: string; port: number }; cluster: { host: string; port: number }[] }
  | { available: false; reason: string }

declare module 'vitest' {
  interface ProvidedContext {
    redis: RedisEnvironment
  }
}

/**
 * Start a private `redis-server` and a private 3-master Redis Cluster on free loopback ports for
 * this run, and stop them afterwards. Without redis-server the Redis tests skip with a stated
 * reason, except on CI (`CI=true`), where a missing server is a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingRedisBinaries()
  if (missing !== undefined) {
    if (process.env.CI === 'true') throw new Error(`Redis tests cannot run on CI: ${missing}`)
    const reason = `${missing}; install redis-server and redis-tools to run the Redis tests`
    console.warn(`\n!!! ${reason.toUpperCase()} — THE REDIS TESTS ARE SKIPPED !!!\n`)
    project.provide('redis', { available: false, reason })
    return async () => {}
  }
  const [standalone, cluster] = await Promise.allSettled([startRedis(), startCluster()])
  if (standalone.status === 'rejected' || cluster.status === 'rejected') {
    await stopAll(
      [standalone, cluster].flatMap((result) => (result.status === 'fulfilled' ? [result.value].flat() : [])),
    )
    throw standalone.status === 'rejected' ? standalone.reason : (cluster as PromiseRejectedResult).reason
  }
  project.provide('redis', {
    available: true,
    standalone: { host: '127.0.0.1', port: standalone.value.port },
    cluster: cluster.value.map((node) => ({ host: '127.0.0.1', port: node.port })),
  })
  const started: RedisProcess[] = [standalone.value, ...cluster.value]
  return () => stopAll(started)
}
