// Pinning processes to cores with taskset, for the saturation measurement: the server child gets a
// core of its own, the load generator and the stores share the other one.
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'

/** The server child's core and everyone else's. */
export const SERVER_CORE = 1
export const OTHERS_CORE = 0

/** `true` when there are two cores or more and `taskset` runs. */
export function canPin(): boolean {
  if (cpus().length < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Pin every thread of a process (`-a`) to one core; threads and children it starts later inherit it.
 * A process that exited in between is not an error.
 */
export function pin(pid: number, core: number): void {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' })
  } catch {
    // gone already
  }
}

/** The process ids whose parent is `parent` (a Postgres postmaster's background processes). */
export function childrenOf(parent: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(parent)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0)
  } catch {
    return []
  }
}
