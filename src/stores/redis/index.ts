import { SessionConfigError } from '../../core/errors.js'
import {
  DEFAULT_STORE_TIMEOUT,
  type ExpireResult,
  type FieldRead,
  type FieldValue,
  type ReadOptions,
  type RemoveResult,
  type RenameResult,
  runWithTimeout,
  type SessionKey,
  type SessionRead,
  type SessionStore,
  type WriteOptions,
  type WriteResult,
} from '../../core/store.js'
import { createScriptRunner, type RedisClient, type ScriptArgument, type ScriptRunner } from './client.js'
import { bytes, int, list, liveSession, text, toBuffer } from './replies.js'
import { DELETE, EXPIRE, GET, GET_ALL, REMOVE, RENAME, type Script, WRITE } from './scripts.js'
import { renameAcrossSlots, writeAcrossSlots } from './transfer.js'

export type { IORedisClient, NodeRedisClient, NodeRedisCluster, RedisClient } from './client.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client you built and own: ioredis `Redis`/`Cluster` or node-redis
   * `createClient()`/`createCluster()` (v4 or v5). The store never closes or reconfigures it.
   */
  client: RedisClient
  /**
   * Prefix of every key; a session lives at `<prefix>{<key>}`. Must not contain `{` or `}`: the
   * braces after the prefix are the Cluster hash tag.
   * @default 'ruts:'
   */
  prefix?: string
  /** Milliseconds each operation may take before it fails with `ERR_SESSION_STORE_TIMEOUT`. @default 2000 */
  timeout?: number
}

const WRITE_STATUS = ['missing', 'written', 'exists', 'collision'] as const

/**
 * Session store on Redis 6.2+ or Valkey, standalone or Cluster, through ioredis or node-redis.
 *
 * One hash per session; per-field TTLs are kept inside the hash and enforced by Lua scripts on the
 * server's clock, so they work on every Redis version without `HEXPIRE`. Every operation is one
 * `EVALSHA` round trip (scripts are re-sent after `NOSCRIPT`), except a rename on a Cluster, which
 * takes two (see docs/redis.md).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { SessionLayer } from 'ruts'
 * import { RedisStore } from 'ruts/redis'
 *
 * const client = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const layer = new SessionLayer({ store: new RedisStore({ client, prefix: 'myapp:sess:' }) })
 * ```
 */
export class RedisStore implements SessionStore {
  readonly name = 'redis'
  readonly #runner: ScriptRunner
  readonly #prefix: string
  readonly #timeout: number

  /**
   * @param options - client, key prefix and per-operation timeout
   * @throws SessionConfigError for a prefix with braces, a bad timeout, or an unknown client
   */
  constructor(options: RedisStoreOptions) {
    const prefix = options.prefix ?? 'ruts:'
    const timeout = options.timeout ?? DEFAULT_STORE_TIMEOUT
    if (/[{}]/.test(prefix)) throw new SessionConfigError('the Redis key prefix must not contain { or }')
    if (!Number.isFinite(timeout) || timeout <= 0) throw new SessionConfigError('timeout must be a positive number')
    try {
      this.#runner = createScriptRunner(options.client)
    } catch {
      throw new SessionConfigError('RedisStore needs an ioredis or node-redis client')
    }
    this.#prefix = prefix
    this.#timeout = timeout
  }

  async get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    return this.#run('get', GET, [this.#key(key)], [field, ...touchArguments(options)], (reply) => {
      const [live, ttl, touched, value] = list(reply)
      if (int(live) === 0) return { live: false }
      return { ...liveSession(ttl, touched), value: bytes(value) }
    })
  }

  async getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    return this.#run('getAll', GET_ALL, [this.#key(key)], touchArguments(options), (reply) => {
      const [live, ttl, touched, ...pairs] = list(reply)
      if (int(live) === 0) return { live: false }
      const fields = new Map<string, FieldValue>()
      for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(text(pairs[i]), bytes(pairs[i + 1]) ?? new Uint8Array())
      return { ...liveSession(ttl, touched), fields }
    })
  }

  async write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    const args: ScriptArgument[] = [
      options.mode,
      options.session,
      field,
      toBuffer(value),
      milliseconds(options.fieldTtl),
      milliseconds(options.sessionTtl),
      options.session === 'create' && options.maxLifetime !== undefined ? milliseconds(options.maxLifetime) : '0',
    ]
    const target = this.#key(key)
    const from = options.renameFrom === undefined ? undefined : this.#key(options.renameFrom)
    if (from !== undefined && this.#runner.cluster) {
      return this.#guard('write', () => writeAcrossSlots(this.#runner, from, target, args).then(writeResult))
    }
    return this.#run('write', WRITE, from === undefined ? [target] : [target, from], args, writeResult)
  }

  async remove(key: SessionKey, field: string): Promise<RemoveResult> {
    return this.#run('remove', REMOVE, [this.#key(key)], [field], (reply) => {
      const [live, ttl, removed] = list(reply)
      if (int(live) === 0) return { live: false }
      return { ...liveSession(ttl, 0), removed: int(removed) === 1 }
    })
  }

  async delete(key: SessionKey): Promise<boolean> {
    return this.#run('delete', DELETE, [this.#key(key)], [], (reply) => int(reply) === 1)
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    return this.#run('expire', EXPIRE, [this.#key(key)], [milliseconds(seconds)], (reply) => {
      const [live, ttl] = list(reply)
      return int(live) === 0 ? { live: false } : liveSession(ttl, 1)
    })
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const keys = [this.#key(from), this.#key(to)] as const
    if (this.#runner.cluster) {
      return this.#guard('rename', () => renameAcrossSlots(this.#runner, keys[0], keys[1]).then(renameResult))
    }
    return this.#run('rename', RENAME, keys, [], renameResult)
  }

  /** Nothing to stop: the store starts no timers, and the client is yours to close. */
  async close(): Promise<void> {}

  #key(key: SessionKey): string {
    return `${this.#prefix}{${key}}`
  }

  #run<T>(
    operation: string,
    script: Script,
    keys: readonly string[],
    args: readonly ScriptArgument[],
    parse: (reply: unknown) => T,
  ): Promise<T> {
    return this.#guard(operation, async () => parse(await this.#runner.run(script, keys, args)))
  }

  /** Bound by the timeout; any failure (including a malformed reply) becomes a `SessionStoreError`. */
  #guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return runWithTimeout(this.name, operation, this.#timeout, work)
  }
}

function milliseconds(seconds: number): string {
  return String(Math.round(seconds * 1000))
}

function touchArguments(options: ReadOptions | undefined): string[] {
  const touch = options?.touch
  return touch === undefined ? ['', ''] : [milliseconds(touch.ttl), milliseconds(touch.threshold)]
}

function writeResult(reply: unknown): WriteResult {
  const [code, ttl, touched] = list(reply)
  const status = WRITE_STATUS[int(code)]
  if (status === 'missing' || status === 'collision') return { status }
  if (status === undefined) throw new TypeError('unexpected script reply')
  return { status, ...liveSession(ttl, touched) }
}

function renameResult(reply: unknown): RenameResult {
  const [code, ttl] = list(reply)
  const status = int(code)
  if (status === 0) return { status: 'missing' }
  if (status === 3) return { status: 'collision' }
  return { status: 'renamed', ...liveSession(ttl, 0) }
}
