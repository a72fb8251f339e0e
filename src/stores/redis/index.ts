/**
 * {@link RedisStore}: sessions in Redis (standalone or Cluster) over ioredis or node-redis, one Lua
 * function (Redis 7+) or script per operation.
 *
 * @module ruts/redis
 */
import { checkIncrement } from '../../core/integers.js'
import type {
  BindOptions,
  BindResult,
  ExpireResult,
  FieldRead,
  FieldValue,
  IncrementOptions,
  IncrementResult,
  ReadOptions,
  RemoveResult,
  RenameResult,
  RevokeTarget,
  SessionKey,
  SessionRead,
  SessionStore,
  SubjectRead,
  SubjectSession,
  WriteOptions,
  WriteResult,
} from '../../core/store.js'
import { DEFAULT_STORE_TIMEOUT, runWithTimeout } from '../../core/timeout.js'
import { checkExpireSeconds, checkWriteTtls } from '../../core/ttl.js'
import { type Check, checkOptions, checks, optionError } from '../../core/validate.js'
import type { RedisClient } from './client.js'
import { type ClusterMoves, renameAcrossSlots, writeAcrossSlots } from './cluster-rename.js'
import { createScriptRunner, isRedirection, type ScriptRunner, type WaitForReplicas } from './runner.js'
import type { RedisScript } from './script.js'
import { DELETE, EXPIRE, GET, GET_ALL, type IndexLeaving, READ_FIELD, REMOVE, TAKE_FIELD } from './scripts.js'
import { holdFor, RedisSubjects } from './subjects.js'
import { INCREMENT, INCREMENT_RENAMING, RENAME, SET_FIELD, WRITE, WRITE_RENAMING } from './write-scripts.js'

export type {
  IORedisClient,
  IORedisPipeline,
  NodeRedisClient,
  NodeRedisCluster,
  NodeRedisSentinel,
  NodeRedisSentinelLease,
  RedisClient,
} from './client.js'
export type { WaitForReplicas } from './runner.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client you built and own: ioredis `Redis` (standalone or with `sentinels`) /
   * `Cluster`, or node-redis `createClient()` / `createCluster()` (v4, v5 or v6) / `createSentinel()`
   * (v5). The store never closes or reconfigures it.
   */
  client: RedisClient
  /**
   * Prefix of every key; a session lives at `<prefix>{<key>}`. Must not contain `{` or `}`: the
   * braces after the prefix are the Cluster hash tag. Give each application its own: subjects are
   * keyed by the subject (`user:42`), so two apps under one prefix list and revoke each other's
   * sessions.
   * @default 'ruts:'
   */
  prefix?: string
  /** Milliseconds each operation may take before it fails with `ERR_SESSION_STORE_TIMEOUT`. @default 2000 */
  timeout?: number
  /**
   * Acknowledge a write only once `replicas` replicas hold it: `WAIT replicas timeout` is pipelined
   * after every script that writes, in the same round trip. Fewer confirmations fail the write with
   * `ERR_SESSION_STORE` (it may or may not survive). With it, a replica promoted by a Sentinel or
   * Cluster failover has every acknowledged write. `timeout` (ms) must be below the store's. After a
   * write came back unconfirmed, writes to that primary go out one at a time until one is confirmed;
   * the others fail at once with `ERR_SESSION_STORE`, unsent, so reads queued on the connection never
   * wait behind a row of `WAIT`s (docs/redis.md#durable-writes-waitforreplicas).
   * @default undefined (off: a write is acknowledged once the primary ran it)
   */
  waitForReplicas?: WaitForReplicas
  /**
   * Receives one-time warnings about the server: on the first call, when it evicts keys under memory
   * pressure (a `maxmemory` with a policy other than `noeviction`), which can drop sessions early and
   * a subject's index while its sessions live (docs/redis.md#memory).
   * @default console.warn
   */
  onWarning?: (message: string) => void
}

const REDIS_OPTIONS = {
  client: checks.required(checks.either(checks.object, checks.function)),
  prefix: checks.string,
  timeout: checks.milliseconds(),
  waitForReplicas: checks.object,
  onWarning: checks.function,
} satisfies Record<keyof RedisStoreOptions, Check>

const WAIT_OPTIONS = {
  replicas: checks.required(checks.positiveInteger),
  timeout: checks.required(checks.positiveInteger),
} satisfies Record<keyof WaitForReplicas, Check>

/**
 * Session store on Redis 6.2+ or Valkey, standalone or Cluster, through ioredis or node-redis.
 *
 * One hash per session; per-field TTLs are kept inside the hash and enforced by Lua scripts on the
 * server's clock, so they work on every Redis version without `HEXPIRE`. Every operation is one
 * round trip: `FCALL` of a function library on Redis 7+ (loaded again after "Function not found"),
 * `EVALSHA` on Redis 6.2 or where functions are denied (re-sent as `EVAL` after `NOSCRIPT`), except a rename on a Cluster, which
 * takes two (see docs/redis.md), and the subject operations on a Cluster, whose index lives in
 * another slot than the sessions (docs/subjects.md, "Redis").
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
  /** Enforces `maxFields` in the write's own atomic step. */
  readonly limits = ['maxFields'] as const
  readonly #runner: ScriptRunner
  readonly #prefix: string
  readonly #timeout: number
  readonly #moves: ClusterMoves
  readonly #subjects: RedisSubjects
  /** Where a deleted bound session leaves its index: in the script, or after it (Cluster). */
  readonly #leave: IndexLeaving

  /**
   * @param options - client, key prefix and per-operation timeout
   * @throws SessionConfigError for a prefix with braces or a lone surrogate, a bad timeout, or an unknown client
   */
  constructor(options: RedisStoreOptions) {
    checkOptions('RedisStore', options, REDIS_OPTIONS)
    const prefix = options.prefix ?? 'ruts:'
    const timeout = options.timeout ?? DEFAULT_STORE_TIMEOUT
    if (/[{}]/.test(prefix)) throw optionError('RedisStore', 'prefix', 'must not contain { or } (got a string)')
    // Keys travel as UTF-8, which turns a lone surrogate into U+FFFD: two such prefixes would be one.
    if (!prefix.isWellFormed()) throw optionError('RedisStore', 'prefix', 'must be well-formed Unicode')
    const wait = options.waitForReplicas
    if (wait !== undefined) {
      checkOptions('RedisStore', wait, WAIT_OPTIONS, { path: 'waitForReplicas.' })
      if (wait.timeout >= timeout) throw optionError('RedisStore', 'waitForReplicas.timeout', 'must be below timeout')
    }
    try {
      const warn = options.onWarning ?? ((message: string) => console.warn(message))
      let warned = false
      // Concurrent first calls each probe; one warning per store, and a throwing callback changes nothing.
      this.#runner = createScriptRunner(options.client, wait, (policy) => {
        if (warned) return
        warned = true
        try {
          warn(
            `ruts RedisStore: this Redis evicts keys under memory pressure (maxmemory-policy ${policy}): sessions may end early, and a subject's index may go while its sessions live, so list() and revokeAll() would miss them. Run the sessions' Redis with maxmemory-policy noeviction (docs/redis.md#memory)`,
          )
        } catch {}
      })
    } catch {
      throw optionError('RedisStore', 'client', 'must be an ioredis or node-redis client')
    }
    this.#prefix = prefix
    this.#timeout = timeout
    this.#moves = { runner: this.#runner, hold: holdFor(timeout) }
    this.#subjects = new RedisSubjects(this.#runner, prefix, timeout)
    this.#leave = this.#runner.cluster ? 'reply' : 'here'
  }

  async get(key: SessionKey, field: string, options?: ReadOptions): Promise<FieldRead> {
    const redisKey = this.#key(key)
    if (options?.touch !== undefined) {
      return untouchedWhenFull(this.#run('get', GET, { key: redisKey, field, options }), () => this.get(key, field))
    }
    const read = await this.#guard('get', async () => {
      const replies = await this.#runner.send(redisKey, READ_FIELD.commands(redisKey, field))
      // While its slot migrates, the hash may answer with a redirection where the keyless TIME did
      // not: a pipeline split across nodes, which the clients do not follow. One call is followed.
      return isRedirection(replies[0]) ? undefined : READ_FIELD.parse(replies)
    })
    return read ?? this.#run('get', GET, { key: redisKey, field })
  }

  async getAll(key: SessionKey, options?: ReadOptions): Promise<SessionRead> {
    const read = this.#run('getAll', GET_ALL, { key: this.#key(key), options })
    return options?.touch === undefined ? read : untouchedWhenFull(read, () => this.getAll(key))
  }

  async write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    checkWriteTtls(options)
    const input = { key: this.#key(key), field, value, options }
    if (options.renameFrom === undefined)
      return this.#run('write', options.mode === 'update' ? SET_FIELD : WRITE, input)
    const from = this.#key(options.renameFrom)
    if (this.#runner.cluster)
      return this.#transfer('write', (abandoned) => writeAcrossSlots(this.#moves, from, WRITE, input, abandoned))
    return this.#run('write', WRITE_RENAMING, { ...input, from })
  }

  async increment(key: SessionKey, field: string, options: IncrementOptions): Promise<IncrementResult> {
    checkIncrement(options)
    const input = { key: this.#key(key), field, options }
    if (options.renameFrom === undefined) return this.#run('increment', INCREMENT, input)
    const from = this.#key(options.renameFrom)
    if (this.#runner.cluster) {
      return this.#transfer('increment', (abandoned) =>
        writeAcrossSlots(this.#moves, from, INCREMENT, input, abandoned),
      )
    }
    return this.#run('increment', INCREMENT_RENAMING, { ...input, from })
  }

  async take(key: SessionKey, field: string): Promise<FieldRead> {
    return this.#run('take', TAKE_FIELD, { key: this.#key(key), field })
  }

  async remove(key: SessionKey, field: string): Promise<RemoveResult> {
    return this.#run('remove', REMOVE, { key: this.#key(key), field })
  }

  async delete(key: SessionKey): Promise<boolean> {
    const redisKey = this.#key(key)
    return this.#guard('delete', async (expired) => {
      const { deleted, index } = await this.#runner.run(DELETE, { key: redisKey, leave: this.#leave }, expired)
      await this.#subjects.deleted(redisKey, index)
      return deleted
    })
  }

  async expire(key: SessionKey, seconds: number): Promise<ExpireResult> {
    checkExpireSeconds(seconds)
    const redisKey = this.#key(key)
    return this.#guard('expire', async (expired) => {
      const input = { key: redisKey, seconds, leave: this.#leave }
      const { result, index } = await this.#runner.run(EXPIRE, input, expired)
      await this.#subjects.deleted(redisKey, index)
      return result
    })
  }

  async rename(from: SessionKey, to: SessionKey): Promise<RenameResult> {
    const keys = { from: this.#key(from), to: this.#key(to) }
    if (this.#runner.cluster)
      return this.#transfer('rename', (abandoned) => renameAcrossSlots(this.#moves, keys.from, keys.to, abandoned))
    return this.#run('rename', RENAME, keys)
  }

  /**
   * Bind a session to a subject (SPEC §13): one script on a standalone server; on a Cluster the
   * ordered steps of `cluster-subjects.ts` (docs/subjects.md, "Redis").
   */
  async bind(key: SessionKey, options: BindOptions): Promise<BindResult> {
    return this.#transfer('bind', (abandoned, expired) => this.#subjects.bind(key, options, abandoned, expired))
  }

  /** The subject and meta of a live session: one script, never touching its lifetime. */
  async subjectOf(key: SessionKey): Promise<SubjectRead> {
    return this.#guard('subjectOf', () => this.#subjects.subjectOf(key))
  }

  /** The subject's live sessions, most recently active first; prunes dead entries on the way. */
  async listSubject(subject: string): Promise<SubjectSession[]> {
    return this.#guard('listSubject', () => this.#subjects.list(subject))
  }

  /** End the subject's sessions in `target`; resolves with the keys it ended. */
  async revokeSubject(subject: string, target: RevokeTarget): Promise<SessionKey[]> {
    return this.#guard('revokeSubject', (expired) => this.#subjects.revoke(subject, target, expired))
  }

  /** Nothing to stop: the store starts no timers, and the client is yours to close. */
  async close(): Promise<void> {}

  #key(key: SessionKey): string {
    return `${this.#prefix}{${key}}`
  }

  #run<Input, Output>(operation: string, script: RedisScript<Input, Output>, input: Input): Promise<Output> {
    return this.#guard(operation, (expired) => this.#runner.run(script, input, expired))
  }

  /**
   * A two-step Cluster rename under the deadline. When the deadline passes first, `abandoned`
   * fires, so a step that still completes later (client retries) is undone instead of leaving the
   * session under an id nobody will learn.
   */
  #transfer<T>(operation: string, work: (abandoned: AbortSignal, expired: () => boolean) => Promise<T>): Promise<T> {
    const deadline = new AbortController()
    return this.#guard(operation, (expired) => work(deadline.signal, expired)).catch((error: unknown) => {
      deadline.abort()
      throw error
    })
  }

  /** Bound by the timeout; any failure (including a malformed reply) becomes a `SessionStoreError`. */
  #guard<T>(operation: string, work: (expired: () => boolean) => Promise<T>): Promise<T> {
    return runWithTimeout(this.name, operation, this.#timeout, work)
  }
}

/**
 * A read with a sliding refresh, on a server out of memory (`maxmemory` with `noeviction`): the
 * refresh is a write, which Redis refuses, and the whole call with it. The read is then made again
 * without the refresh: a refresh that does not happen only ends the session earlier, while failing
 * the read would answer every signed-in request 503 until memory frees up.
 *
 * @param read - the refreshing read
 * @param plain - the same read without the refresh
 * @returns what one of them answered
 */
function untouchedWhenFull<T>(read: Promise<T>, plain: () => Promise<T>): Promise<T> {
  return read.catch((error: unknown) => {
    const cause = (error as { cause?: { message?: unknown } } | undefined)?.cause
    if (typeof cause?.message === 'string' && cause.message.startsWith('OOM ')) return plain()
    throw error
  })
}
