import { execFile } from 'node:child_process'
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../redis/server.js'

// A PRIVATE PostgreSQL cluster for the fault tests: initdb into a temp dir, a free loopback port,
// trust auth, fsync off. Restarting it never touches the shared server on 5432.

const run = promisify(execFile)

/** A private Postgres the test started. */
export interface PrivatePostgres {
  readonly port: number
  /** `pg_ctl restart -m fast`: every connection is dropped, the server comes back on the same port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** `undefined` when initdb and pg_ctl are installed, else why not. */
export async function missingPostgresBinaries(): Promise<string | undefined> {
  return (await binaries().catch(() => undefined)) === undefined
    ? 'PostgreSQL server binaries are not installed'
    : undefined
}

async function binaries(): Promise<string> {
  const root = '/usr/lib/postgresql'
  const versions = (await readdir(root)).sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined) throw new Error('no PostgreSQL under /usr/lib/postgresql')
  return join(root, versions[0], 'bin')
}

/**
 * initdb and start a private cluster. initdb refuses to run as root, so as root the cluster
 * belongs to the `postgres` system user.
 *
 * @returns the running server
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await binaries()
  const dir = await mkdtemp(join(tmpdir(), 'ruts-pg-'))
  const asRoot = userInfo().uid === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: group } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout), Number(group))
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args)
  const data = join(dir, 'data')
  const port = await freePort()
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`
  await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  return {
    port,
    // pg_ctl restart reuses the previous command line's options (postmaster.opts).
    restart: async () => void (await pg('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-m', 'fast', '-w', 'restart'])),
    async stop() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
