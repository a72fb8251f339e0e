import { connect, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { SessionStore } from '../../src/core/store.js'
import * as clusterSubjectScripts from '../../src/stores/redis/cluster-subject-scripts.js'
import type { RedisStore } from '../../src/stores/redis/index.js'
import * as indexScripts from '../../src/stores/redis/index-scripts.js'
import * as scripts from '../../src/stores/redis/scripts.js'
import * as subjectListScripts from '../../src/stores/redis/subject-list-scripts.js'
import * as subjectScripts from '../../src/stores/redis/subject-scripts.js'
import * as writeScripts from '../../src/stores/redis/write-scripts.js'
import { writeOptionsFor } from '../helpers/write-options.js'
import {
  allClientKinds,
  bytes,
  type ConnectedClient,
  describeRedis,
  randomKey,
  redis,
  storeFor,
  text,
  uniquePrefix,
} from './clients.js'
import { type RedisProcess, startRedis, stopAll } from './server.js'

const create = writeOptionsFor('create', 600)
const existing = writeOptionsFor('existing', 600)

/** Every script the store sends: its `EVAL` source and its function library. */
const allScripts = [
  scripts,
  writeScripts,
  subjectScripts,
  clusterSubjectScripts,
  indexScripts,
  subjectListScripts,
].flatMap((module) =>
  Object.values(module).flatMap((value: unknown) =>
    typeof value === 'object' && value !== null && 'source' in value && 'library' in value
      ? [{ source: String(value.source), library: String(value.library) }]
      : [],
  ),
)

// One plain connection per server for the tests' own SCRIPT LOAD / SCRIPT FLUSH.
const admins = new Map<number, Redis>()
function admin(port: number): Redis {
  let existing = admins.get(port)
  if (existing === undefined) {
    existing = new Redis({ host: '127.0.0.1', port })
    // A private server stops before the file ends: its reconnect attempts are expected, not news.
    existing.on('error', () => undefined)
    admins.set(port, existing)
  }
  return existing
}
afterAll(() => {
  for (const connection of admins.values()) connection.disconnect()
})

interface LoggedCommand {
  /** `ip:port` of the client that sent it, or `lua` for a command run by a script. */
  source: string
  args: string[]
}

/**
 * Top-level commands a server receives, seen through MONITOR on a raw socket (a client library
 * would add commands of its own). Commands a script runs are reported with the source `lua`; they
 * belong to the script's one round trip and are not counted.
 */
class CommandLog {
  readonly #seen: LoggedCommand[] = []
  readonly #socket: Socket
  readonly #marker: Redis
  #buffer = ''

  constructor(port: number) {
    this.#socket = connect(port, '127.0.0.1')
    this.#marker = new Redis({ port, host: '127.0.0.1' })
  }

  async start(): Promise<void> {
    this.#socket.setEncoding('utf8')
    this.#socket.on('data', (chunk: string) => this.#read(chunk))
    this.#socket.write('MONITOR\r\n')
    await this.mark()
  }

  // Every MONITOR line is `+<time> [<db> <source>] "<command>" "<arg>"…`, with quotes,
  // backslashes and binary bytes escaped, so a line never contains a raw CR or LF.
  #read(chunk: string): void {
    this.#buffer += chunk
    let end = this.#buffer.indexOf('\r\n')
    while (end >= 0) {
      const line = this.#buffer.slice(0, end)
      this.#buffer = this.#buffer.slice(end + 2)
      const source = /^\+\S+ \[\d+ ([^\]]+)\]/.exec(line)?.[1]
      if (source !== undefined) {
        const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? '')
        this.#seen.push({ source, args })
      }
      end = this.#buffer.indexOf('\r\n')
    }
  }

  /** Position in the log once everything sent so far has been logged. */
  async mark(): Promise<number> {
    await this.#settle()
    return this.#seen.length
  }

  /** Logged commands since `mark` that `match` accepts. */
  async since(mark: number, match: (entry: LoggedCommand) => boolean): Promise<number> {
    await this.#settle()
    return this.#seen.slice(mark).filter(match).length
  }

  /** Commands `match` accepts while `work` ran. */
  async count(work: () => Promise<unknown>, match: (entry: LoggedCommand) => boolean) {
    const mark = await this.mark()
    await work()
    return this.since(mark, match)
  }

  /** MONITOR output is in execution order: once our marker shows up, everything before it has. */
  async #settle(): Promise<void> {
    const marker = `settle-${randomKey()}`
    await this.#marker.echo(marker)
    while (!this.#seen.some((entry) => entry.args[1] === marker)) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  async close(): Promise<void> {
    this.#socket.destroy()
    this.#marker.disconnect()
  }
}

/**
 * The `RPUSH` and `PEXPIRE` that carry a call's session data to its own staging list (values never
 * travel as script arguments, see docs/redis.md). The runner sends them in the same pipeline as the
 * script, so they are part of the script's one exchange and not counted as round trips.
 */
const isStaging = (entry: LoggedCommand): boolean =>
  ['RPUSH', 'PEXPIRE'].includes((entry.args[0] ?? '').toUpperCase()) && (entry.args[1] ?? '').includes('}:in:')

/**
 * One top-level command per operation, except a plain `get`: `HMGET` then `TIME`, pipelined (one
 * exchange), no script.
 */
const onePerOperation = (counts: Record<string, number>) =>
  Object.fromEntries(Object.keys(counts).map((name) => [name, name === 'get' ? 2 : 1]))

const operations = (store: RedisStore, key: string): [string, () => Promise<unknown>][] => [
  ['create', () => store.write(key, 'a', bytes('1'), create)],
  ['update', () => store.write(key, 'b', bytes('2'), existing)],
  ['insert (present)', () => store.write(key, 'b', bytes('3'), { ...existing, mode: 'insert' })],
  ['get', () => store.get(key, 'a')],
  ['get with touch', () => store.get(key, 'a', { touch: { ttl: 900, threshold: 60 } })],
  ['getAll', () => store.getAll(key)],
  ['remove', () => store.remove(key, 'b')],
  ['increment', () => store.increment(key, 'n', { ...existing, by: 1, format: 'msgpack' })],
  ['take', () => store.take(key, 'n')],
  ['expire', () => store.expire(key, 900)],
]

/**
 * Subject operations in order, on a fresh subject: two logins, a kept bind, an anonymous session
 * logging in, list, revocations, then a regenerate and a logout of a bound session.
 */
const subjectOperations = (store: RedisStore, subject: string): [string, () => Promise<unknown>][] => {
  const [a, b, anonymous, c, renamed] = [randomKey(), randomKey(), randomKey(), randomKey(), randomKey()]
  const login = { session: 'create', subject, meta: '{}', sessionTtl: 600 } as const
  return [
    ['bind (create)', () => store.bind(a, login)],
    ['bind (create, second)', () => store.bind(b, login)],
    ['bind (same subject: kept)', () => store.bind(randomKey(), { ...login, session: 'existing', renameFrom: a })],
    ['anonymous write', () => store.write(anonymous, 'x', bytes('1'), create)],
    ['bind (new subject: moved)', () => store.bind(c, { ...login, session: 'existing', renameFrom: anonymous })],
    ['subjectOf', () => store.subjectOf(a)],
    ['listSubject (3 sessions)', () => store.listSubject(subject)],
    ['revokeSubject (one key)', () => store.revokeSubject(subject, { keys: [b] })],
    ['revokeSubject (all but one: 1 ended)', () => store.revokeSubject(subject, { except: a })],
    ['rename (bound)', () => store.rename(a, renamed)],
    ['delete (bound)', () => store.delete(renamed)],
  ]
}

/**
 * Commands on a Cluster. MONITOR counts commands; the per-session commands of list and revoke go
 * out in one parallel step, so their round trips are 2 and 3 whatever the number of sessions.
 */
const CLUSTER_SUBJECT_COMMANDS = {
  'bind (create)': 2, // INDEX_ADD, BIND_PLACE
  'bind (create, second)': 2,
  'bind (same subject: kept)': 1, // BIND_SOURCE
  'anonymous write': 1,
  'bind (new subject: moved)': 3, // BIND_SOURCE, INDEX_ADD, BIND_PLACE
  subjectOf: 1,
  'listSubject (3 sessions)': 4, // INDEX_READ, then 3 × SESSION_STATE in parallel
  'revokeSubject (one key)': 2, // REVOKE_ONE, INDEX_PRUNE
  'revokeSubject (all but one: 1 ended)': 3, // INDEX_READ, REVOKE_ONE (in parallel), INDEX_PRUNE
  'rename (bound)': 3, // TAKE, INDEX_ADD, PLACE
  'delete (bound)': 2, // DELETE, INDEX_PRUNE
}

describeRedis('RedisStore round trips, counted with MONITOR', () => {
  let server: RedisProcess
  let log: CommandLog
  beforeAll(async () => {
    server = await startRedis()
    log = new CommandLog(server.port)
    await log.start()
  })
  afterAll(async () => {
    await log?.close()
    if (server) await stopAll([server])
  })

  it.each(allClientKinds.filter((kind) => !kind.cluster))('each operation is one command ($name)', async (kind) => {
    const connected = await kind.connect({ host: '127.0.0.1', port: server.port })
    try {
      const info = String(await connected.raw('', 'CLIENT', 'INFO'))
      const address = /\baddr=(\S+)/.exec(info)?.[1]
      const fromStore = (entry: LoggedCommand) => entry.source === address && !isStaging(entry)
      const store = storeFor(connected.client)
      const key = randomKey()
      // Warm the script cache: the very first call of each script after a server start is
      // EVALSHA + EVAL (NOSCRIPT), which the NOSCRIPT test covers.
      for (const [, operation] of operations(store, randomKey())) await operation()
      await store.rename(randomKey(), randomKey())
      await store.delete(randomKey())
      const counts: Record<string, number> = {}
      for (const [name, operation] of operations(store, key)) counts[name] = await log.count(operation, fromStore)
      const renamed = randomKey()
      counts.rename = await log.count(() => store.rename(key, renamed), fromStore)
      const moved = randomKey()
      counts['write with renameFrom'] = await log.count(
        () => store.write(moved, 'c', bytes('3'), { ...existing, renameFrom: renamed }),
        fromStore,
      )
      const counted = randomKey()
      counts['increment with renameFrom'] = await log.count(
        () => store.increment(counted, 'n', { ...existing, by: 1, format: 'json', renameFrom: moved }),
        fromStore,
      )
      counts.delete = await log.count(() => store.delete(counted), fromStore)
      expect(counts).toEqual(onePerOperation(counts))
      expect(Object.keys(counts)).toHaveLength(14)
      // On Redis 7+ every call is one FCALL, its value an argument: nothing is staged.
      const staged = (entry: LoggedCommand) => entry.source === address && isStaging(entry)
      const fcall = (entry: LoggedCommand) => fromStore(entry) && entry.args[0]?.toUpperCase() === 'FCALL'
      expect(await log.count(() => store.write(key, 'd', bytes('4'), existing), staged)).toBe(0)
      expect(await log.count(() => store.write(key, 'd', bytes('4'), existing), fcall)).toBe(1)
      expect(await log.count(() => store.get(key, 'd'), fcall)).toBe(0)
      const commands: string[] = []
      await log.count(
        () => store.get(key, 'd'),
        (entry) => fromStore(entry) && commands.push(entry.args[0]?.toUpperCase() ?? '') > 0,
      )
      expect(commands).toEqual(['HMGET', 'TIME'])
    } finally {
      await connected.close()
    }
  })

  it('keeps maxFields off the common path: one HLEN on an update, none on a create or on an increment of a live field; a full session refuses without reading its fields', async () => {
    const kind = allClientKinds.find((each) => !each.cluster)
    if (kind === undefined) throw new Error('no standalone client kind')
    const connected = await kind.connect({ host: '127.0.0.1', port: server.port })
    try {
      const store = storeFor(connected.client)
      // HLEN counts metadata entries too: far from the limit, the count is all a write looks at.
      const limit = { maxFields: 10 }
      const counter = { ...existing, ...limit, by: 1, format: 'json' } as const
      // Commands the scripts run (MONITOR's source `lua`), by name, while `work` runs.
      const inner = async (work: () => Promise<unknown>): Promise<string[]> => {
        const names: string[] = []
        await log.count(work, (entry) => entry.source === 'lua' && names.push(entry.args[0]?.toUpperCase() ?? '') > 0)
        return names
      }
      const without = randomKey()
      const key = randomKey()
      // Warm the function cache (the first call after a server start also loads the library).
      await store.write(randomKey(), 'a', bytes('1'), { ...create, ...limit })
      expect(await inner(() => store.write(key, 'a', bytes('1'), { ...create, ...limit }))).not.toContain('HLEN')
      await store.write(without, 'a', bytes('1'), create)
      const update = await inner(() => store.write(key, 'b', bytes('2'), { ...existing, ...limit }))
      const unlimited = await inner(() => store.write(without, 'b', bytes('2'), existing))
      expect(update.filter((name) => name === 'HLEN')).toEqual(['HLEN'])
      expect(update).toHaveLength(unlimited.length + 1)
      expect(await inner(() => store.increment(key, 'n', counter))).toContain('HLEN')
      // Incrementing the live counter adds no field: not counted.
      expect(await inner(() => store.increment(key, 'n', counter))).not.toContain('HLEN')
      let refused: unknown
      // With a, b and n the session is full at maxFields 3.
      const full = await inner(async () => {
        refused = await store.write(key, 'c', bytes('3'), { ...existing, maxFields: 3 })
      })
      expect(refused).toMatchObject({ status: 'full' })
      // No field has expired (m:soonest says so): no entry is read, however often this is retried, and
      // nothing is written (a write then undone would still reach replicas and the AOF, value and all).
      expect(full).not.toContain('HGETALL')
      expect(full).not.toContain('HDEL')
      expect(full).not.toContain('HSET')
    } finally {
      await connected.close()
    }
  })

  it.each(allClientKinds.filter((kind) => !kind.cluster))(
    'each subject operation is one command ($name)',
    async (kind) => {
      const connected = await kind.connect({ host: '127.0.0.1', port: server.port })
      try {
        const info = String(await connected.raw('', 'CLIENT', 'INFO'))
        const address = /\baddr=(\S+)/.exec(info)?.[1]
        const fromStore = (entry: LoggedCommand) => entry.source === address && !isStaging(entry)
        const store = storeFor(connected.client)
        // Warm the script cache (the first call of a script after a server start also sends EVAL).
        for (const [, operation] of subjectOperations(store, `user:${randomKey()}`)) await operation()
        const counts: Record<string, number> = {}
        for (const [name, operation] of subjectOperations(store, `user:${randomKey()}`)) {
          counts[name] = await log.count(operation, fromStore)
        }
        expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((name) => [name, 1])))
        expect(Object.keys(counts)).toHaveLength(11)
      } finally {
        await connected.close()
      }
    },
  )
})

describeRedis('RedisStore round trips on a Cluster, counted with MONITOR on every node', () => {
  const logs: CommandLog[] = []
  beforeAll(async () => {
    if (!redis.available) return
    for (const node of redis.cluster) logs.push(new CommandLog(node.port))
    await Promise.all(logs.map((log) => log.start()))
  })
  afterAll(() => Promise.all(logs.map((log) => log.close())))

  async function loadScriptsEverywhere(): Promise<void> {
    if (!redis.available) return
    const loads = redis.cluster.flatMap((node) =>
      allScripts.map(({ library }) => admin(node.port).call('FUNCTION', 'LOAD', 'REPLACE', library)),
    )
    await Promise.all(loads)
  }

  /** Top-level commands on all nodes that name a key under `prefix` (other tests share the cluster). */
  async function count(prefix: string, work: () => Promise<unknown>): Promise<number> {
    // A new store's first call is preceded once by its probe for functions (docs/redis.md), not counted.
    const probe = (entry: LoggedCommand) => entry.args[1] === 'ruts_probe'
    const ours = (entry: LoggedCommand) =>
      entry.source !== 'lua' && !isStaging(entry) && !probe(entry) && entry.args.some((arg) => arg.startsWith(prefix))
    const marks = await Promise.all(logs.map((log) => log.mark()))
    await work()
    const counts = await Promise.all(logs.map((log, index) => log.since(marks[index] ?? 0, ours)))
    return counts.reduce((sum, each) => sum + each, 0)
  }

  it.each(allClientKinds.filter((kind) => kind.cluster))(
    'one command per operation; a rename costs two ($name)',
    async (kind) => {
      const connected = await kind.connect()
      try {
        const prefix = uniquePrefix()
        const store = storeFor(connected.client, { prefix })
        // Each node holds functions on its own; load them everywhere so no call meets "Function not
        // found" here (other files may flush them: see the recovery test below).
        await loadScriptsEverywhere()
        const key = randomKey()
        const counts: Record<string, number> = {}
        for (const [name, operation] of operations(store, key)) counts[name] = await count(prefix, operation)
        const renamed = randomKey()
        await store.rename(randomKey(), randomKey())
        counts.rename = await count(prefix, () => store.rename(key, renamed))
        const moved = randomKey()
        counts['write with renameFrom'] = await count(prefix, () =>
          store.write(moved, 'c', bytes('3'), { ...existing, renameFrom: renamed }),
        )
        counts['increment with renameFrom'] = await count(prefix, () =>
          store.increment(randomKey(), 'n', { ...existing, by: 1, format: 'json', renameFrom: moved }),
        )
        counts['rename (missing)'] = await count(prefix, () => store.rename(randomKey(), randomKey()))
        expect(counts).toEqual({
          ...Object.fromEntries(operations(store, key).map(([name]) => [name, 1])),
          rename: 2,
          'write with renameFrom': 2,
          'increment with renameFrom': 2,
          'rename (missing)': 1,
        })
      } finally {
        await connected.close()
      }
    },
  )

  it.each(allClientKinds.filter((kind) => kind.cluster))(
    'subject operations: commands per call, as docs/subjects.md states ($name)',
    async (kind) => {
      const connected = await kind.connect()
      try {
        const prefix = uniquePrefix()
        const store = storeFor(connected.client, { prefix })
        await loadScriptsEverywhere()
        const counts: Record<string, number> = {}
        for (const [name, operation] of subjectOperations(store, `user:${randomKey()}`)) {
          counts[name] = await count(prefix, operation)
        }
        expect(counts).toEqual(CLUSTER_SUBJECT_COMMANDS)
      } finally {
        await connected.close()
      }
    },
  )
})

// Recovery lives in this file rather than its own: files run in parallel, and a FUNCTION FLUSH on
// the shared cluster would turn the FCALLs counted above into FCALL + FUNCTION LOAD + FCALL.
// Standalone kinds use a private server, so other files' calls on the shared one stay untouched;
// on the shared cluster they merely reload the library, which is the behaviour under test anyway.

/** Store calls that each need the script or function they use, with what each must return. */
function recoverySteps(store: SessionStore): [() => Promise<unknown>, unknown][] {
  const [key, renamed, moved] = [randomKey(), randomKey(), randomKey()]
  return [
    [() => store.write(key, 'a', bytes('1'), create), { status: 'written' }],
    [() => store.write(key, 'b', bytes('2'), existing), { status: 'written' }],
    [() => store.get(key, 'a').then((read) => read.live && text(read.value)), '1'],
    [() => store.getAll(key).then((read) => read.live && read.fields.size), 2],
    [() => store.remove(key, 'b').then((result) => result.live && result.removed), true],
    [() => store.expire(key, 900).then((result) => result.live), true],
    [() => store.rename(key, renamed), { status: 'renamed' }],
    [() => store.write(moved, 'c', bytes('3'), { ...existing, renameFrom: renamed }), { status: 'written' }],
    [() => store.delete(moved), true],
  ]
}

async function runSteps(steps: [() => Promise<unknown>, unknown][], forget: () => Promise<unknown>): Promise<void> {
  for (const [step, expected] of steps) {
    await forget()
    expect(await step()).toEqual(typeof expected === 'object' ? expect.objectContaining(expected) : expected)
  }
}

describeRedis('RedisStore recovers from "Function not found"', () => {
  const open: ConnectedClient[] = []
  let own: RedisProcess
  beforeAll(async () => {
    own = await startRedis()
  })
  afterAll(async () => {
    await Promise.all(open.map((each) => each.close()))
    if (own) await stopAll([own])
  })

  it.each(allClientKinds)('every operation works right after FUNCTION FLUSH ($name)', async (kind) => {
    const connected = await kind.connect(kind.cluster ? undefined : { host: '127.0.0.1', port: own.port })
    open.push(connected)
    const store: SessionStore = storeFor(connected.client)
    const ports = kind.cluster && redis.available ? redis.cluster.map((node) => node.port) : [own.port]
    // What a failover to a node that never held the libraries looks like: the server lost them all.
    // The store has called each function before, so it does not load it up front.
    await runSteps(recoverySteps(store), async () => {})
    await runSteps(recoverySteps(store), () => Promise.all(ports.map((port) => admin(port).call('FUNCTION', 'FLUSH'))))
    // The retry loaded the library again, so the next call is a plain FCALL.
    if (!kind.cluster) {
      const listed = await admin(own.port).call('FUNCTION', 'LIST', 'LIBRARYNAME', scripts.DELETE.function)
      expect(listed).toHaveLength(1)
    }
  })
})

describeRedis('RedisStore without functions (FUNCTION and FCALL denied by ACL): EVALSHA with staged values', () => {
  const open: ConnectedClient[] = []
  let own: RedisProcess
  let log: CommandLog
  beforeAll(async () => {
    own = await startRedis()
    // As on Redis 6.2, where FUNCTION does not exist: the store's user may not load or call functions.
    await admin(own.port).call('ACL', 'SETUSER', 'default', '-function', '-fcall', '-fcall_ro')
    log = new CommandLog(own.port)
    await log.start()
  })
  afterAll(async () => {
    await log?.close()
    await Promise.all(open.map((each) => each.close()))
    if (own) {
      admins.get(own.port)?.disconnect()
      admins.delete(own.port)
      await stopAll([own])
    }
  })
  const standalone = allClientKinds.filter((kind) => !kind.cluster)

  it.each(standalone)('each operation is one script call; values are staged ($name)', async (kind) => {
    const connected = await kind.connect({ host: '127.0.0.1', port: own.port })
    open.push(connected)
    const info = String(await connected.raw('', 'CLIENT', 'INFO'))
    const address = /\baddr=(\S+)/.exec(info)?.[1]
    const fromStore = (entry: LoggedCommand) => entry.source === address && !isStaging(entry)
    const store = storeFor(connected.client)
    // Warm up: the first call finds out that functions are refused, and caches the scripts.
    for (const [, operation] of operations(store, randomKey())) await operation()
    const key = randomKey()
    const counts: Record<string, number> = {}
    for (const [name, operation] of operations(store, key)) counts[name] = await log.count(operation, fromStore)
    expect(counts).toEqual(onePerOperation(counts))
    const evalsha = (entry: LoggedCommand) => fromStore(entry) && entry.args[0]?.toUpperCase() === 'EVALSHA'
    expect(await log.count(() => store.getAll(key), evalsha)).toBe(1)
    // A write's value went through exactly one staging list; a read stages nothing.
    const staged = (entry: LoggedCommand) => entry.source === address && isStaging(entry)
    expect(await log.count(() => store.write(key, 'd', bytes('4'), existing), staged)).toBe(2)
    expect(await log.count(() => store.get(key, 'd'), staged)).toBe(0)
  })

  it.each(standalone)('every operation works right after SCRIPT FLUSH ($name)', async (kind) => {
    const connected = await kind.connect({ host: '127.0.0.1', port: own.port })
    open.push(connected)
    const store: SessionStore = storeFor(connected.client)
    await runSteps(recoverySteps(store), () => admin(own.port).script('FLUSH'))
    // The fallback EVAL cached the script again, so the next call is a plain EVALSHA hit.
    expect(await connected.raw('', 'SCRIPT', 'EXISTS', scripts.DELETE.sha)).toEqual([1])
  })
})

describeRedis('RedisStore whose user may call functions but not load them', () => {
  const open: ConnectedClient[] = []
  let own: RedisProcess
  beforeAll(async () => {
    own = await startRedis()
    await admin(own.port).call('ACL', 'SETUSER', 'default', '-function')
  })
  afterAll(async () => {
    await Promise.all(open.map((each) => each.close()))
    if (own) await stopAll([own])
  })

  it.each(allClientKinds.filter((kind) => !kind.cluster))(
    'falls back to scripts on the first NOPERM ($name)',
    async (kind) => {
      const connected = await kind.connect({ host: '127.0.0.1', port: own.port })
      open.push(connected)
      const store: SessionStore = storeFor(connected.client)
      // The probe finds functions; the first FCALL finds none loaded and FUNCTION LOAD is refused.
      await runSteps(recoverySteps(store), async () => {})
      // The calls went as scripts (this test's own connection may not list functions either).
      expect(await connected.raw('', 'SCRIPT', 'EXISTS', scripts.DELETE.sha)).toEqual([1])
    },
  )
})
