/**
 * A Jepsen-style history of HTTP session operations and its checker.
 *
 * Every client owns its sessions (one at a time) and is their only writer, so what a read may
 * return is known exactly: the client's own data, with the counter of its last acknowledged update
 * or of an update attempted after it that failed (a 503 may or may not have been applied).
 */

/** What a client asked for. `probe` reads with a cookie the client retired (deleted or regenerated away). */
export type OperationKind = 'create' | 'read' | 'update' | 'increment' | 'regenerate' | 'delete' | 'probe'

/** Data the app keeps in a session: whose it is, which of its sessions, and a counter. */
export interface SessionData {
  owner: string
  generation: number
  n: number
}

/** One request and its outcome. */
export interface Operation {
  client: string
  kind: OperationKind
  status: number
  setCookie: boolean
  /** The session data in the response, when there was a session. */
  data: SessionData | undefined
  /** The session's `hits` counter in the response (`increment`, and reads of a live session). */
  hits: number | undefined
  start: number
  end: number
}

/** A step of the fault (e.g. "killed 7001"), on the history's clock. */
export interface Mark {
  label: string
  at: number
}

/** What went wrong, by kind; every entry is a broken guarantee unless the scenario allows it. */
export interface Findings {
  /** Any status but 200 and 503, or a 503 that set a cookie. */
  badResponses: Operation[]
  /** A response carrying another client's session data. */
  foreignData: Operation[]
  /** A retired (deleted or regenerated-away) cookie served a session. */
  resurrected: Operation[]
  /** A read returned a counter older than the last acknowledged update (or from the future). */
  lostUpdates: Operation[]
  /** The current session vanished although every operation on it had been acknowledged. */
  lostSessions: Operation[]
  /** The current session vanished after an operation on it failed (allowed: it fails closed). */
  lostAfterFailure: Operation[]
  /** A `hits` counter below an acknowledged one (an increment lost) or above the increments sent (one applied twice). */
  wrongCounts: Operation[]
  /** A failed write was seen applied, then a later read no longer showed it (see {@link Verdict}). */
  rolledBack: Operation[]
}

/** Counts over a history, printed by every fault test. */
export interface Summary {
  operations: number
  byKind: Record<string, number>
  unavailable: number
  /** First to last 503, in ms (0 when there was none). */
  windowMs: number
  /** Successful operations that started after the last 503: requests resumed. */
  resumed: number
  findings: Record<keyof Findings, number>
}

/**
 * What a read shows, judged against the history: `ok`; `lost` — older than the last acknowledged
 * update (or from nowhere); `rolledBack` — an update that failed (503) was seen applied earlier, and
 * this read no longer shows it. Asynchronous replication allows the last: a primary applies a write,
 * fails to get it confirmed (`WAIT`), serves it for a moment, and a failover discards it. An
 * acknowledged write must never go that way.
 */
export type Verdict = 'ok' | 'lost' | 'rolledBack'

/** A client's view: what its current session must contain. */
export class SessionExpectation {
  #acknowledged = 0
  #attempted = new Set<number>()
  /** A failed update's counter a read has shown since the last acknowledgement. */
  #seenUnacknowledged: number | undefined
  #failedSinceAck = false
  /** Until when an operation that timed out may still land (see {@link failed}). */
  #inFlightUntil = Number.NEGATIVE_INFINITY

  /** The counter an update acknowledged; earlier attempts no longer matter. */
  acknowledge(n: number): void {
    this.#acknowledged = n
    this.#attempted.clear()
    this.#seenUnacknowledged = undefined
    this.#failedSinceAck = false
  }

  /**
   * An update (or any operation) that failed: its write may or may not have been applied. One that
   * failed by the store's timeout may also still be on its way, queued at the server behind other
   * commands (`WAIT`s). It can then land after a
   * later read of this client has shown the session, so that read does not settle it until
   * `inFlightUntil`.
   */
  failed(n?: number, inFlightUntil?: number): void {
    if (n !== undefined) this.#attempted.add(n)
    this.#failedSinceAck = true
    if (inFlightUntil !== undefined) this.#inFlightUntil = Math.max(this.#inFlightUntil, inFlightUntil)
  }

  /**
   * Judge a read's counter. A successful read also settles earlier failures: a session that
   * vanishes after it counts as lost, not as lost after a failure.
   */
  observe(n: number): Verdict {
    this.#failedSinceAck = false
    if (this.#attempted.has(n) && n !== this.#acknowledged) {
      this.#seenUnacknowledged = n
      return 'ok'
    }
    if (n !== this.#acknowledged) return 'lost'
    return this.#seenUnacknowledged === undefined ? 'ok' : 'rolledBack'
  }

  /**
   * Whether the session may have ended by a failed operation, as seen by an operation started at
   * `time`: one failed since the last acknowledgement or read, or one that timed out may still land.
   */
  failedBefore(time: number): boolean {
    return this.#failedSinceAck || time < this.#inFlightUntil
  }
}

/**
 * A client's view of its session's `hits` counter. Increments only add, so a value below one an
 * acknowledged increment replied is a lost increment, and a value above the number of increments
 * sent (failed ones included: they may have been applied) is one applied twice. A value below one a
 * read showed earlier, but not below the acknowledged one, is a failed increment rolled back (see
 * {@link Verdict}).
 */
export class CounterExpectation {
  #acknowledged = 0
  #seen = 0
  #sent = 0

  /** An increment is about to be sent. */
  sent(): void {
    this.#sent++
  }

  /**
   * Judge a value the store reported; `own` when it is the reply of an increment, which is then
   * acknowledged (and added on top of every acknowledged one).
   */
  observe(value: number, own = false): Verdict {
    const floor = this.#acknowledged + (own ? 1 : 0)
    const verdict: Verdict = value < floor || value > this.#sent ? 'lost' : value < this.#seen ? 'rolledBack' : 'ok'
    if (own) this.#acknowledged = Math.max(this.#acknowledged, value)
    this.#seen = own ? value : Math.max(this.#seen, value)
    return verdict
  }
}

/** Empty findings, to fill while the history runs. */
export function noFindings(): Findings {
  return {
    badResponses: [],
    foreignData: [],
    resurrected: [],
    lostUpdates: [],
    lostSessions: [],
    lostAfterFailure: [],
    wrongCounts: [],
    rolledBack: [],
  }
}

/**
 * Summarise a history and its findings.
 *
 * @param history - every operation, in any order
 * @param findings - what the clients found while running
 * @returns counts and the unavailability window
 */
export function summarise(history: readonly Operation[], findings: Findings): Summary {
  const byKind: Record<string, number> = {}
  for (const operation of history) byKind[operation.kind] = (byKind[operation.kind] ?? 0) + 1
  const failed = history.filter((operation) => operation.status === 503)
  const first = Math.min(...failed.map((operation) => operation.start))
  const last = Math.max(...failed.map((operation) => operation.end))
  const counts = Object.fromEntries(Object.entries(findings).map(([name, list]) => [name, list.length]))
  return {
    operations: history.length,
    byKind,
    unavailable: failed.length,
    windowMs: failed.length === 0 ? 0 : Math.round(last - first),
    resumed: history.filter((operation) => operation.status === 200 && (failed.length === 0 || operation.start > last))
      .length,
    findings: counts as Record<keyof Findings, number>,
  }
}

/**
 * One line per history for the test output.
 *
 * @param name - the scenario
 * @param summary - its summary
 * @returns the line
 */
export function describeSummary(name: string, summary: Summary): string {
  const kinds = Object.entries(summary.byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ')
  const findings = Object.entries(summary.findings)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ')
  return `[faults] ${name}: ${summary.operations} ops (${kinds}); 503: ${summary.unavailable}, window ${summary.windowMs} ms, ${summary.resumed} ok after it; ${findings}`
}

/**
 * The story behind each finding of the kinds given: the fault's steps and the client's operations
 * before it, so a failed run shows what happened, not only that something did. Empty when none.
 *
 * @param result - the workload's history, marks and findings
 * @param kinds - the kinds of finding to explain
 * @returns lines to print
 */
export function explainFindings(
  result: { history: readonly Operation[]; marks: readonly Mark[]; findings: Findings },
  kinds: readonly (keyof Findings)[],
): string[] {
  const lines: string[] = []
  const at = (time: number) => `${Math.round(time)}`
  for (const kind of kinds) {
    for (const finding of result.findings[kind]) {
      lines.push(`[faults] ${kind}: ${finding.client} ${finding.kind} at ${at(finding.start)}–${at(finding.end)}`)
      lines.push(`  fault: ${result.marks.map((mark) => `${mark.label} @${at(mark.at)}`).join(', ')}`)
      const before = result.history
        .filter((operation) => operation.client === finding.client && operation.start <= finding.start)
        .sort((a, b) => a.start - b.start)
      // From the first operation that saw the finding's generation (a resurrected session's story
      // starts long before the probe), at most 40 lines: the first 10 and the last 30.
      const generation = finding.data?.generation
      const first = before.findIndex((operation) => operation.data?.generation === generation)
      const story = before.slice(generation === undefined || first < 0 ? -12 : first)
      const shown = story.length > 40 ? [...story.slice(0, 10), undefined, ...story.slice(-30)] : story
      for (const operation of shown) {
        if (operation === undefined) {
          lines.push('  …')
          continue
        }
        const data = operation.data === undefined ? '-' : `g${operation.data.generation} n${operation.data.n}`
        const hits = operation.hits === undefined ? '' : ` hits ${operation.hits}`
        const cookie = operation.setCookie ? ' set-cookie' : ''
        lines.push(
          `  ${at(operation.start)}–${at(operation.end)} ${operation.kind} ${operation.status} ${data}${hits}${cookie}`,
        )
      }
    }
  }
  return lines
}
