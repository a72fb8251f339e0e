import { createServer } from 'node:http'
import express from 'express'
import { session } from '../../src/adapters/express.js'
import { SessionLayer } from '../../src/core/layer.js'
import type { SessionStore } from '../../src/core/store.js'
import { DEFAULT_STORE_TIMEOUT } from '../../src/core/timeout.js'
import { listen } from '../helpers/listen.js'
import {
  CounterExpectation,
  type Findings,
  type Mark,
  noFindings,
  type Operation,
  type OperationKind,
  type SessionData,
  SessionExpectation,
  type Summary,
  summarise,
} from './history.js'

/** How long and how hard to run. */
export interface WorkloadOptions {
  /** Concurrent HTTP clients, each the only writer of its sessions. */
  clients?: number
  /** Load before the fault starts. */
  warmupMs?: number
  /** Load after the fault's promise settled (the topology has recovered). */
  settleMs?: number
  /**
   * After `settleMs`, how much longer the load may go on while fewer than {@link RESUMED_OPERATIONS}
   * requests have succeeded since the last 503. @default 6000
   */
  resumeWithinMs?: number
  /**
   * The fault: runs once the warm-up is over; the workload keeps going until it settles. `mark`
   * records a step of it (e.g. "killed") on the history's clock, for {@link explainFindings}.
   */
  fault: (mark: (label: string) => void) => Promise<void>
}

/** The recorded history, what the clients found, and its summary. */
export interface WorkloadResult {
  history: Operation[]
  /** The fault's steps, on the history's clock. */
  marks: Mark[]
  findings: Findings
  summary: Summary
}

type Data = { data: SessionData; hits: number }

/**
 * How long after its 503 a timed-out command may still land: what holds it back at the server is
 * the `WAIT`s ahead of it on its connection (16 clients × the tests' 500 ms `WAIT` timeout = 8 s).
 * In a Sentinel CI run, a regenerate that timed out at 2 s moved its session 0.6–1.7 s later, after
 * a read had shown the session at its old id.
 */
const IN_FLIGHT_MS = 10_000

/** The app under test: one route per operation, all through the Express adapter and the layer. */
async function startApp(store: SessionStore) {
  const layer = new SessionLayer<Data>({ store, cookie: { secure: false, maxAge: 600 } })
  const sessions = session(layer)
  const app = express()
  app.set('env', 'test') // no stack traces of the provoked 503s on stderr
  app.use(sessions)
  const reply = sessions.route(async (req, res) => {
    const { owner, generation, n } = req.query as Record<string, string>
    const current = await req.session.get('data')
    // A session can end between two calls of one request (a delete that failed with a timeout may
    // still land late). A write after that creates a new session: answered as "no session", and the
    // new one, which would hold only part of the data, is removed.
    const id = req.session.id
    const ended = async () => {
      if (req.session.id === id) return false
      await req.session.delete()
      res.json({})
      return true
    }
    switch (req.path) {
      case '/increment': {
        if (current === undefined) {
          res.json({})
          return
        }
        const hits = await req.session.increment('hits')
        if (!(await ended())) res.json({ data: current, hits })
        return
      }
      case '/create': {
        const data = { owner: String(owner), generation: Number(generation), n: 0 }
        await req.session.update('data', data)
        res.json({ data })
        return
      }
      case '/update':
        if (current !== undefined) await req.session.update('data', { ...current, n: Number(n) })
        if (!(await ended())) res.json({ data: current && { ...current, n: Number(n) } })
        return
      case '/regenerate':
        if (current !== undefined) await req.session.regenerate()
        res.json({ data: current })
        return
      case '/delete':
        await req.session.delete()
        res.json({})
        return
      default: {
        const hits = current === undefined ? undefined : await req.session.get('hits')
        // Ended between the two reads: a session gone, not a counter at 0.
        res.json(req.session.id === undefined ? {} : { data: current, hits: hits ?? 0 })
      }
    }
  })
  app.get(/.*/, reply)
  return listen(createServer(app))
}

/** The cookie a response sets: its `name=value`, `null` for a removal, `undefined` for none. */
function cookieOf(response: Response): string | null | undefined {
  const header = response.headers.getSetCookie()[0]
  if (header === undefined) return undefined
  if (/max-age=0/i.test(header) || /^[^=]+=;/.test(header)) return null
  return header.split(';')[0]
}

/** One client: its current session, its retired cookies, what it expects. */
class Client {
  readonly name: string
  #cookie: string | undefined
  #generation = 0
  #counter = 0
  #expect = new SessionExpectation()
  #hits = new CounterExpectation()
  readonly #retired: string[] = []

  constructor(
    index: number,
    readonly url: string,
    readonly history: Operation[],
    readonly findings: Findings,
  ) {
    this.name = `c${index}`
  }

  async #send(kind: OperationKind, path: string, cookie = this.#cookie) {
    const start = performance.now()
    const response = await fetch(`${this.url}${path}`, {
      headers: cookie === undefined ? {} : { cookie },
      signal: AbortSignal.timeout(15_000),
    }).catch(() => Response.json({}, { status: 599 })) // no answer at all: recorded as a bad response
    const body = (await response.json().catch(() => ({}))) as { data?: SessionData; hits?: number }
    const operation: Operation = {
      client: this.name,
      kind,
      status: response.status,
      setCookie: response.headers.getSetCookie().length > 0,
      data: body.data ?? undefined,
      hits: body.hits ?? undefined,
      start,
      end: performance.now(),
    }
    this.history.push(operation)
    if (operation.status !== 200 && operation.status !== 503) this.findings.badResponses.push(operation)
    if (operation.status === 503 && operation.setCookie) this.findings.badResponses.push(operation)
    if (operation.data !== undefined && operation.data.owner !== this.name) this.findings.foreignData.push(operation)
    return { operation, cookie: cookieOf(response) }
  }

  /**
   * A request failed (503). When the store gave up on it at its timeout, its command may still be
   * queued at the server or in the client, and land later.
   */
  #failed(operation: Operation, n?: number): void {
    const timedOut = operation.end - operation.start >= DEFAULT_STORE_TIMEOUT
    this.#expect.failed(n, timedOut ? operation.end + IN_FLIGHT_MS : undefined)
  }

  /** The current session is gone: count how, and start afresh. */
  #vanished(operation: Operation): void {
    const afterFailure = this.#expect.failedBefore(operation.start)
    ;(afterFailure ? this.findings.lostAfterFailure : this.findings.lostSessions).push(operation)
    // Not retired: only an acknowledged delete or regenerate retires a cookie. A session that vanished
    // after a failed regenerate may come back once the store undoes the late rename (transfer.ts).
    this.#cookie = undefined
  }

  /** A live session's data: its own, of this generation, with a counter the history allows. */
  #check(operation: Operation): void {
    const data = operation.data
    if (data === undefined) {
      this.#vanished(operation)
      return
    }
    if (data.generation !== this.#generation) {
      this.findings.foreignData.push(operation)
      return
    }
    const verdict = this.#expect.observe(data.n)
    if (verdict === 'lost') this.findings.lostUpdates.push(operation)
    const counted = operation.hits === undefined ? 'ok' : this.#hits.observe(operation.hits)
    if (counted === 'lost') this.findings.wrongCounts.push(operation)
    if (verdict === 'rolledBack' || counted === 'rolledBack') this.findings.rolledBack.push(operation)
  }

  async step(): Promise<void> {
    if (this.#cookie === undefined) return this.#create()
    const roll = Math.random()
    if (roll < 0.3) return this.#read()
    if (roll < 0.55) return this.#update()
    if (roll < 0.65) return this.#increment()
    if (roll < 0.77) return this.#regenerate()
    if (roll < 0.82) return this.#delete()
    return this.#probe()
  }

  async #create(): Promise<void> {
    this.#generation++
    const { operation, cookie } = await this.#send(
      'create',
      `/create?owner=${this.name}&generation=${this.#generation}`,
    )
    if (operation.status !== 200 || typeof cookie !== 'string') return
    this.#cookie = cookie
    this.#expect = new SessionExpectation()
    this.#hits = new CounterExpectation()
  }

  async #read(): Promise<void> {
    const { operation, cookie } = await this.#send('read', '/read')
    if (operation.status !== 200) return this.#failed(operation)
    if (typeof cookie === 'string') this.#cookie = cookie
    this.#check(operation)
  }

  async #update(): Promise<void> {
    const n = ++this.#counter
    const { operation, cookie } = await this.#send('update', `/update?n=${n}`)
    if (operation.status !== 200) return this.#failed(operation, n)
    if (typeof cookie === 'string') this.#cookie = cookie
    if (operation.data === undefined) return this.#vanished(operation)
    this.#expect.acknowledge(n)
  }

  async #increment(): Promise<void> {
    this.#hits.sent()
    const { operation, cookie } = await this.#send('increment', '/increment')
    if (operation.status !== 200) return this.#failed(operation)
    if (typeof cookie === 'string') this.#cookie = cookie
    if (operation.data === undefined) return this.#vanished(operation)
    const counted = operation.hits === undefined ? 'lost' : this.#hits.observe(operation.hits, true)
    if (counted === 'lost') this.findings.wrongCounts.push(operation)
    if (counted === 'rolledBack') this.findings.rolledBack.push(operation)
  }

  async #regenerate(): Promise<void> {
    const { operation, cookie } = await this.#send('regenerate', '/regenerate')
    if (operation.status !== 200) return this.#failed(operation)
    this.#check({ ...operation })
    if (operation.data !== undefined && typeof cookie === 'string' && this.#cookie !== undefined) {
      this.#retired.push(this.#cookie)
      this.#cookie = cookie
    }
  }

  async #delete(): Promise<void> {
    const { operation } = await this.#send('delete', '/delete')
    if (operation.status !== 200) return this.#failed(operation)
    if (this.#cookie !== undefined) this.#retired.push(this.#cookie)
    this.#cookie = undefined
  }

  async #probe(): Promise<void> {
    const cookie = this.#retired[Math.floor(Math.random() * this.#retired.length)]
    if (cookie === undefined) return this.#read()
    const { operation } = await this.#send('probe', '/read', cookie)
    if (operation.status === 200 && operation.data !== undefined) this.findings.resurrected.push(operation)
  }

  /** After the run: read the current session until the store answers, and check it once more. */
  async verify(deadline: number): Promise<void> {
    while (this.#cookie !== undefined && performance.now() < deadline) {
      const { operation } = await this.#send('read', '/read')
      if (operation.status === 200) return this.#check(operation)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Successful requests after the last 503 that show service resumed (the tests check `resumed > 10`). */
export const RESUMED_OPERATIONS = 16

/** How many requests succeeded that started after the last 503 ended (all of them without a 503). */
function resumedAfterLastFailure(history: readonly Operation[]): number {
  let last = Number.NEGATIVE_INFINITY
  for (const operation of history) if (operation.status === 503 && operation.end > last) last = operation.end
  let resumed = 0
  for (const operation of history) if (operation.status === 200 && operation.start > last) resumed++
  return resumed
}

/**
 * Run the mixed workload through HTTP against `store` while `fault` runs.
 *
 * @param store - the store under test (its topology is the caller's)
 * @param options - clients, warm-up, settle time and the fault
 * @returns the history, the findings and the summary
 */
export async function runWorkload(store: SessionStore, options: WorkloadOptions): Promise<WorkloadResult> {
  const app = await startApp(store)
  const history: Operation[] = []
  const marks: Mark[] = []
  const findings = noFindings()
  const clients = Array.from({ length: options.clients ?? 16 }, (_, i) => new Client(i, app.url, history, findings))
  let running = true
  const loops = clients.map(async (client) => {
    while (running) await client.step()
  })
  try {
    await new Promise((resolve) => setTimeout(resolve, options.warmupMs ?? 1_500))
    await options.fault((label) => marks.push({ label, at: performance.now() }))
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1_500))
    // How long the clients take to move after a failover varies (8–12 s for the same Sentinel
    // failover across runs): keep the load on until service has visibly resumed, or the bound passes
    // (then the test's `resumed` check fails, as it should).
    const until = performance.now() + (options.resumeWithinMs ?? 6_000)
    while (resumedAfterLastFailure(history) <= RESUMED_OPERATIONS && performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    running = false
    await Promise.all(loops)
  }
  const deadline = performance.now() + 10_000
  await Promise.all(clients.map((client) => client.verify(deadline)))
  await app.close()
  return { history, marks, findings, summary: summarise(history, findings) }
}
