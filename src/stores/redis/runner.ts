import { randomBytes } from 'node:crypto'
import { type Command, connectionOf, type RedisClient } from './client.js'
import { int } from './replies.js'
import { everyLibrary, type RedisScript, type ScriptArgument, type ScriptCall } from './script.js'

/**
 * How many replicas must confirm a write before the store acknowledges it (`WAIT`), and for how
 * long to wait for them.
 */
export interface WaitForReplicas {
  /** Replicas that must hold the write. */
  replicas: number
  /** Milliseconds `WAIT` may block; must be shorter than the store's `timeout`. */
  timeout: number
}

/** One tiny interface over both libraries: run a script, get its parsed reply. */
export interface ScriptRunner {
  /** `true` for a Cluster client: keys of different sessions may live on different nodes. */
  readonly cluster: boolean
  /**
   * Run a script on the node of its first key, in one round trip: `FCALL` of its function on Redis
   * 7+ (`FUNCTION LOAD` + `FCALL` once more after "Function not found"; on a Cluster, every library
   * to every master first, then the `FCALL` again), or `EVALSHA` with staged
   * values where the server has no functions or refuses them, `EVAL` (which also caches the script)
   * after `NOSCRIPT`. The first call of a runner finds out which (one more round trip). With
   * `waitForReplicas`, a script that writes is followed by `WAIT` in the same round trip.
   *
   * @param script - the script, which builds its keys and arguments and parses its reply
   * @param input - the script's typed input
   * @param expired - whether the caller's deadline has passed (see {@link Send})
   * @returns the parsed reply
   * @throws the client's error, or an `Error` when fewer replicas than asked confirmed a write
   */
  run<Input, Output>(script: RedisScript<Input, Output>, input: Input, expired?: () => boolean): Promise<Output>
  /**
   * Send plain commands back to back on the connection to the node serving `key` (one round trip,
   * no `WAIT`: for reads).
   * @returns each command's reply, or the `Error` in its place
   */
  send(key: string, commands: readonly Command[]): Promise<unknown[]>
}

/**
 * A write that ran on the primary, but fewer replicas than asked confirmed it: the store reports it
 * failed, since a failover could drop it. The write's own result stays available to a caller that
 * must undo it (a rename's first step took a session), in a private field: it can hold session data,
 * which no error message, log or trace may show.
 */
export class UnconfirmedWriteError extends Error {
  readonly #result: () => unknown

  /**
   * @param confirmed - replicas that confirmed it
   * @param required - replicas asked for
   * @param result - the write's parsed result
   */
  constructor(confirmed: number, required: number, result: () => unknown) {
    super(`the write reached ${confirmed} of ${required} replicas`)
    this.name = 'UnconfirmedWriteError'
    this.#result = result
  }

  /** @returns what the write did, as its script's parser reads the reply */
  result(): unknown {
    return this.#result()
  }
}

/** How long a staging list may outlive a script that never ran (a dropped connection), in ms. */
const STAGING_TTL = '10000'

/**
 * The commands that carry a call's session data to Redis, and the call as `EVALSHA` then sends it.
 * The data goes in `RPUSH` to a list of its own at an extra last key (in the first key's hash slot,
 * unique per call so concurrent calls never share one), as position/value pairs: the stock
 * instrumentations record `RPUSH` as its key and a count of other arguments, never the values.
 * `PEXPIRE` bounds a list whose script never ran; the script deletes it when it does.
 */
function staging(call: ScriptCall, name: () => string): { stage: Command[]; call: ScriptCall } {
  const { keys, args, staged } = call
  if (staged === undefined || staged.length === 0) return { stage: [], call }
  const list = `${keys[0]}:in:${name()}`
  const pairs: ScriptArgument[] = []
  const plain = [...args]
  for (const position of staged) {
    pairs.push(String(position + 1), args[position] ?? '')
    plain[position] = ''
  }
  const stage: Command[] = [
    ['RPUSH', list, ...pairs],
    ['PEXPIRE', list, STAGING_TTL],
  ]
  return { stage, call: { keys: [...keys, list], args: plain } }
}

function isNoScript(reply: unknown): boolean {
  return reply instanceof Error && reply.message.startsWith('NOSCRIPT')
}

/**
 * A Cluster redirection (`MOVED`, `ASK`) or a slot mid-migration (`TRYAGAIN`) in place of a reply:
 * the command did not run.
 *
 * @param reply - one command's reply
 * @returns whether it is such an error
 */
export function isRedirection(reply: unknown): boolean {
  return reply instanceof Error && /^(MOVED|ASK|TRYAGAIN) /.test(reply.message)
}

/** The server lost a function (a fresh node after a failover, `FUNCTION FLUSH`): load it again. */
function isFunctionMissing(reply: unknown): boolean {
  return reply instanceof Error && reply.message.startsWith('ERR Function not found')
}

/** The server has no functions (Redis 6.2), or this user may not use them (ACL). */
function isFunctionRefused(reply: unknown): boolean {
  return reply instanceof Error && /^(ERR unknown command|NOPERM)/.test(reply.message)
}

/**
 * The server refuses a function that may write up front (too few replicas, out of memory, a failed
 * save), where an `EVAL` script runs until its first write: a read still works there. Nothing ran.
 */
function isWriteRefused(reply: unknown): boolean {
  return reply instanceof Error && /^(NOREPLICAS|OOM|MISCONF)/.test(reply.message)
}

/**
 * Which writes may go out while replicas cannot confirm them. `WAIT` blocks the connection it was
 * sent on for its whole timeout, and everything queued behind it waits too: with every write
 * waiting in turn, reads on that connection run into the store's timeout. So after a write came
 * back unconfirmed, one write at a time goes out to find out whether replicas confirm again (the
 * probe); the others fail at once, unsent, so nothing changed. A confirmed probe opens the gate.
 * The probe holds its turn until its reply arrives, or for twice the `WAIT` timeout: a client may
 * never settle a command whose connection it replaced (ioredis drops those it does not re-send), and
 * the next probe then adds one timeout of blocking per two, so a queue of `WAIT`s still drains. What
 * no gate can undo is the writes already sent when the replicas stopped confirming: each of their
 * `WAIT`s blocks the connection in turn.
 * One gate per primary: on a Cluster, per master address in the client's slot table.
 */
class ReplicaGate {
  #unconfirmed = false
  /** When the probe in flight went out; `undefined` when none is. */
  #probeSince: number | undefined
  readonly #patience: number

  /** @param timeout - the `WAIT` timeout in ms */
  constructor(timeout: number) {
    this.#patience = 2 * timeout
  }

  /**
   * @returns `'send'` while replicas confirm; while they do not, `'probe'` for the one write that
   *   may go out, and `'hold'` for the others
   */
  admit(): 'send' | 'probe' | 'hold' {
    if (!this.#unconfirmed) return 'send'
    const now = performance.now()
    if (this.#probeSince !== undefined && now - this.#probeSince < this.#patience) return 'hold'
    this.#probeSince = now
    return 'probe'
  }

  /**
   * A write came back. Replies on one connection come back in the order sent, so the latest
   * `WAIT` answer says whether replicas confirm now.
   * @param confirmed - enough replicas confirmed it; `undefined` when it failed before its `WAIT` answered
   * @param probe - it was the probe
   */
  settle(confirmed: boolean | undefined, probe: boolean): void {
    if (confirmed !== undefined) this.#unconfirmed = !confirmed
    if (probe) this.#probeSince = undefined
  }
}

/**
 * How calls reach the server: not known yet (the first call finds out), function libraries
 * (`FCALL`, Redis 7+), or `EVAL` scripts with staged values (Redis 6.2, or `FUNCTION` denied).
 */
type Mode = 'unknown' | 'functions' | 'scripts'

/**
 * Adapt a user's client to {@link ScriptRunner}.
 *
 * @param client - an ioredis or node-redis client, cluster or Sentinel client
 * @param waitForReplicas - replicas every write must reach before it is acknowledged
 * @returns the runner
 * @throws TypeError when `client` is neither library's
 */
export function createScriptRunner(
  client: RedisClient,
  waitForReplicas?: WaitForReplicas,
  onEvictingPolicy?: (policy: string) => void,
): ScriptRunner {
  const { cluster, send, nodeOf, everyMaster } = connectionOf(client)
  const wait: Command | undefined =
    waitForReplicas === undefined
      ? undefined
      : ['WAIT', String(waitForReplicas.replicas), String(waitForReplicas.timeout)]
  // Staging list names: random per runner, then a counter, so no two calls ever share one.
  const nonce = randomBytes(6).toString('base64url')
  let calls = 0
  const name = () => `${nonce}:${(calls++).toString(36)}`
  let mode: Mode = 'unknown'
  const required = waitForReplicas?.replicas ?? 0
  const single = waitForReplicas === undefined ? undefined : new ReplicaGate(waitForReplicas.timeout)
  const gates = new Map<string, ReplicaGate>()
  /** The gate of the primary a write to `key` goes to; none without `waitForReplicas`, or for a node not known yet. */
  const gateFor = (key: string | undefined): ReplicaGate | undefined => {
    if (waitForReplicas === undefined || !cluster) return single
    const node = key === undefined ? undefined : nodeOf?.(key)
    if (node === undefined) return undefined
    let gate = gates.get(node)
    if (gate === undefined) {
      // Addresses change with failovers and resharding: forget them all now and then.
      if (gates.size >= 256) gates.clear()
      gate = new ReplicaGate(waitForReplicas.timeout)
      gates.set(node, gate)
    }
    return gate
  }

  /** Whether replicas must confirm the script's writes: every write but an undo (`restores`). */
  const confirms = (script: RedisScript<unknown, unknown>): boolean => script.writes && !script.restores

  /** `WAIT` after a call that writes, when `waitForReplicas` asks for it: in the call's exchange. */
  const waitAfter = (writes: boolean): Command[] => (wait !== undefined && writes ? [wait] : [])

  /** Replies of `commands` then the call and `WAIT`, sent in one exchange; a failed command before the call throws. */
  const exchange = async (
    key: string | undefined,
    before: readonly Command[],
    call: Command,
    writes: boolean,
    expired: (() => boolean) | undefined,
  ) => {
    const replies = await send(key, [...before, call, ...waitAfter(writes)], expired)
    const failed = replies.slice(0, before.length).find((reply) => reply instanceof Error)
    if (failed !== undefined) throw failed
    return replies.slice(before.length)
  }

  let loading: Promise<boolean> | undefined
  let loadedAt = Number.NEGATIVE_INFINITY
  /**
   * On a Cluster, every library to every master the client knows, at once. A node that loaded only
   * what it was asked for lacks a library when a slot migrates to it, and a call it then cannot run
   * goes out as a script, staged in a list whose key the source node redirects while the session's
   * own key is still there: `TRYAGAIN`, and a regenerate's move fails. One load at a time; within a
   * second of the last, none (the node that lacks a library is one the client does not know yet,
   * and the call loads it there itself).
   * @returns `false` when a master refuses `FUNCTION LOAD` (then scripts from now on)
   */
  const loadEverywhere = (toMasters: NonNullable<typeof everyMaster>): Promise<boolean> => {
    if (loading !== undefined) return loading
    if (performance.now() - loadedAt < 1_000) return Promise.resolve(true)
    const loads = everyLibrary().map((library): Command => ['FUNCTION', 'LOAD', 'REPLACE', library])
    loading = toMasters(loads)
      .then((replies) => !replies.some((node) => node.some(isFunctionRefused)))
      .finally(() => {
        loading = undefined
        loadedAt = performance.now()
      })
    return loading
  }

  /**
   * `FCALL`: session data travels as plain arguments, which the stock instrumentations never record
   * for a command they do not list (docs/redis.md). A server that lacks the library (first use, a
   * fresh node, `FUNCTION FLUSH`) answers "Function not found"; the library then goes out with the
   * call again in one exchange (`FUNCTION LOAD REPLACE`: its name is its code's hash, so replacing
   * never changes another version's functions).
   * @returns the replies, or `undefined` when this call must go as a script instead: the server
   *   refuses functions (then every later call does too), or refuses this one as a write
   */
  const viaFunction = async (
    script: RedisScript<unknown, unknown>,
    call: ScriptCall,
    expired: (() => boolean) | undefined,
  ) => {
    const { keys, args } = call
    if (mode === 'unknown') {
      // Find out with a call of no function, on the key's node: no value in it (a server without
      // FCALL quotes the first arguments in its error, and a trace records errors), and no write.
      // `INFO memory` rides along (no round trip of its own): a server that evicts keys can drop a
      // subject's index while its sessions live (docs/redis.md, "Memory").
      const [probe, memory] = await send(
        keys[0],
        [
          ['FCALL', 'ruts_probe', '1', keys[0] ?? ''],
          ['INFO', 'memory'],
        ],
        expired,
      )
      const policy = evictingPolicy(memory)
      if (policy !== undefined) onEvictingPolicy?.(policy)
      if (isFunctionRefused(probe)) mode = 'scripts'
      else if (isFunctionMissing(probe)) mode = 'functions'
      else throw probe instanceof Error ? probe : new TypeError('unexpected reply to a probe')
      if (mode === 'scripts') return undefined
    }
    const fcall: Command = ['FCALL', script.function, String(keys.length), ...keys, ...args]
    let replies = await exchange(keys[0], [], fcall, confirms(script), expired)
    if (isFunctionMissing(replies[0]) && everyMaster !== undefined) {
      if (!(await loadEverywhere(everyMaster))) {
        mode = 'scripts'
        return undefined
      }
      replies = await exchange(keys[0], [], fcall, confirms(script), expired)
    }
    if (isFunctionMissing(replies[0])) {
      // Not through `exchange`: a refused or failed load is answered here, not thrown.
      const [loading, ...rest] = await send(
        keys[0],
        [['FUNCTION', 'LOAD', 'REPLACE', script.library], fcall, ...waitAfter(confirms(script))],
        expired,
      )
      if (isFunctionRefused(loading)) {
        // This user may call functions but not load them: scripts from now on.
        mode = 'scripts'
        return undefined
      }
      // The call's own reply, unless the library could not be loaded: then why not.
      if (loading instanceof Error && isFunctionMissing(rest[0])) rest[0] = loading
      replies = rest
      // On a Cluster the pair goes where the client believes the key's slot is. While the slot
      // migrates, that can be the wrong node: the library is loaded there, and the call is either
      // redirected unrun (ioredis does not follow a redirection inside a pipeline whose other reply
      // succeeded) or followed to the node that serves the key, which still lacks the library
      // (node-redis). The call then goes as a script, alone, which either client redirects (MOVED
      // and ASK); a node loads the library at its own first "Function not found" of a later call.
      if (cluster && (isRedirection(replies[0]) || isFunctionMissing(replies[0]))) return undefined
    }
    if (isWriteRefused(replies[0])) return undefined
    return replies
  }

  /** `EVALSHA` with values staged (see {@link staging}), `EVAL` after `NOSCRIPT`. */
  const viaScript = async (
    script: RedisScript<unknown, unknown>,
    built: ScriptCall,
    expired: (() => boolean) | undefined,
  ) => {
    const { stage, call } = staging(built, name)
    const { keys, args } = call
    const evaluate = (command: 'EVALSHA' | 'EVAL', body: string): Command => [
      command,
      body,
      String(keys.length),
      ...keys,
      ...args,
    ]
    const replies = await exchange(keys[0], stage, evaluate('EVALSHA', script.sha), confirms(script), expired)
    // After SCRIPT FLUSH, a restart or a failover the server has forgotten the script. EVAL runs
    // it and caches it again; both attempts belong to one store operation (the staging list is
    // pushed again: the same pairs twice put the same values back).
    if (isNoScript(replies[0])) {
      return exchange(keys[0], stage, evaluate('EVAL', script.source), confirms(script), expired)
    }
    return replies
  }

  return {
    cluster,
    send,
    async run(script, input, expired) {
      const call = script.build(input)
      const generic = script as RedisScript<unknown, unknown>
      const gate = confirms(script) ? gateFor(call.keys[0]) : undefined
      const admitted = gate?.admit()
      if (admitted === 'hold') throw new Error('replicas did not confirm the last write: this one was not sent')
      let replies: unknown[]
      try {
        replies =
          (mode === 'scripts' ? undefined : await viaFunction(generic, call, expired)) ??
          (await viaScript(generic, call, expired))
      } catch (error) {
        gate?.settle(undefined, admitted === 'probe')
        throw error
      }
      const [reply, confirmed] = replies
      gate?.settle(typeof confirmed === 'number' ? confirmed >= required : undefined, admitted === 'probe')
      if (reply instanceof Error) throw reply
      if (confirmed instanceof Error) throw confirmed
      if (waitForReplicas !== undefined && confirms(script) && int(confirmed) < required) {
        // Written on the primary, not confirmed by enough replicas: a failover could drop it.
        throw new UnconfirmedWriteError(int(confirmed), required, () => script.parse(reply))
      }
      return script.parse(reply)
    },
  }
}

/**
 * The server's `maxmemory-policy` from an `INFO memory` reply when it evicts keys: a `maxmemory` is
 * set and the policy is not `noeviction`. `undefined` otherwise, and when `INFO` was refused (ACL).
 */
export function evictingPolicy(reply: unknown): string | undefined {
  if (reply instanceof Error || reply === undefined || reply === null) return undefined
  const info = String(reply)
  const limit = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0)
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
  return limit > 0 && policy !== undefined && policy !== 'noeviction' ? policy : undefined
}
