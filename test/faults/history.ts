/**
 * A Jepsen-style history of HTTP session operations and its checker.
 *
 * Every client owns its sessions (one at a time) and is their only writer, so what a read may
 * return is known exactly: the client's own data, with the counter of its last acknowledged update
 * or of an update attempted after it that failed (a 503 may or may not have been applied).
 */

/** What a client asked for. `probe` reads with a cookie the client retired (deleted or regenerated away). */
export type OperationKind = 'create' | 'read' | 'update' | 'regenerate' | 'delete' | 'probe'

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

/** A client's view: what its current session must contain. */
export class SessionExpectation {
  #acknowledged = 0
  #attempted = new Set<number>()
  #failedSinceAck = false

  /** The counter an update acknowledged; earlier attempts no longer matter. */
  acknowledge(n: number): void {
    this.#acknowledged = n
    this.#attempted.clear()
    this.#failedSinceAck = false
  }

  /** An update (or any operation) that failed: its write may or may not have been applied. */
  failed(n?: number): void {
    if (n !== undefined) this.#attempted.add(n)
    this.#failedSinceAck = true
  }

  /** Whether a read's counter is one the history allows. */
  allows(n: number): boolean {
    return n === this.#acknowledged || this.#attempted.has(n)
  }

  /** Whether an operation on this session failed since the last acknowledgement. */
  get failedSinceAck(): boolean {
    return this.#failedSinceAck
  }

  /** The last acknowledged counter. */
  get acknowledged(): number {
    return this.#acknowledged
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
        const cookie = operation.setCookie ? ' set-cookie' : ''
        lines.push(
          `  ${at(operation.start)}–${at(operation.end)} ${operation.kind} ${operation.status} ${data}${cookie}`,
        )
      }
    }
  }
  return lines
}
