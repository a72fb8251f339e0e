import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// `npm test` builds first; this checks what a user installs, through the package's own exports map.
const built = existsSync(new URL('../dist/index.js', import.meta.url))
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const requireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)

const root = new URL('..', import.meta.url)
const run = (code: string, type: 'commonjs' | 'module') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '--no-warnings', '-e', code], {
    cwd: root,
    encoding: 'utf8',
  }).trim()

describe.skipIf(!built)('the built package', () => {
  it('imports every subpath as ESM', () => {
    const output = run(
      `const subpaths = ['ruts', 'ruts/adapter', 'ruts/express', 'ruts/h3', 'ruts/sveltekit', 'ruts/testing/server']
       for (const path of subpaths) await import(path)
       const { SessionLayer, MemoryStore } = await import('ruts')
       console.log(typeof SessionLayer, typeof MemoryStore)`,
      'module',
    )
    expect(output).toBe('function function')
  })

  it('ruts/adapter exports the adapter contract, and ruts/web only withSession', () => {
    const output = run(
      `const adapter = await import('ruts/adapter')
       const web = await import('ruts/web')
       console.log(JSON.stringify([Object.keys(adapter).sort(), Object.keys(web)]))`,
      'module',
    )
    expect(JSON.parse(output)).toEqual([
      [
        'SessionConfigError',
        'SessionError',
        'SessionStoreError',
        'appendSetCookie',
        'applySessionCookie',
        'checkLayer',
        'checkOptions',
        'checks',
        'commitTouched',
        'deferHeadersUntilCommitted',
        'failsClosed',
        'nodeTransport',
        'parseCookieHeader',
        'responseCommitted',
        'serviceUnavailable',
        'webTransport',
        'withSessionCookie',
      ],
      ['withSession'],
    ])
  })

  it('keeps the layered write options in SessionWriteOptions for a program that imports only ruts', () => {
    // Without the root entry's reference to the layered store's declaration, tsc reports
    // `strategy` as unknown here (and the @ts-expect-error lines as unused).
    const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname
    const flags = [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
    ]
    const check = () =>
      execFileSync(process.execPath, [tsc, ...flags, 'test/fixtures/write-options.mts'], { cwd: root })
    expect(check).not.toThrow()
  }, 120_000) // one tsc run: ~3 s of CPU, but over 20 s on a loaded machine

  it.runIf(requireEsm)('works with require() on Node ≥ 20.19', () => {
    const output = run(
      `const { SessionLayer, MemoryStore } = require('ruts')
       const { session } = require('ruts/express')
       const layer = new SessionLayer({ store: new MemoryStore() })
       layer.open(undefined).update('a', 1).then((ok) => console.log(ok, typeof session))`,
      'commonjs',
    )
    expect(output).toBe('true function')
  })
})
