import { execFile, execFileSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const toolDir = `${root}tools/typescript7`

/** The two TypeScript compilers consumers use: the root install (5.9) and TypeScript 7 (native). */
export type Compiler = { name: string; bin: string }

/**
 * TypeScript 5.9 from the root install. Its `node_modules/.bin/tsc` must stay 5.9: typedoc and vitest
 * use its JS API, so TypeScript 7 lives in a package directory of its own (tools/typescript7).
 *
 * @returns the compiler, after checking that it is 5.9
 */
export function typescript59(): Compiler {
  const bin = `${root}node_modules/typescript/bin/tsc`
  const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()
  if (!version.startsWith('Version 5.9')) throw new Error(`root TypeScript is ${version}, not 5.9`)
  // An install that aliased TypeScript 7 at the root would have re-pointed the shared bin link.
  if (realpathSync(`${root}node_modules/.bin/tsc`) !== realpathSync(bin)) {
    throw new Error('node_modules/.bin/tsc is not the root TypeScript 5.9')
  }
  return { name: 'TypeScript 5.9', bin }
}

/**
 * TypeScript 7 from tools/typescript7, installed there from its own lockfile on first use (`.ci/run`
 * installs it too). Never installed at the root: an alias there would take over `.bin/tsc`.
 *
 * @returns the compiler, after checking that it is 7.x
 */
export function typescript7(): Compiler {
  const bin = `${toolDir}/node_modules/typescript/bin/tsc`
  if (!existsSync(bin)) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: toolDir, stdio: 'ignore' })
  }
  const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()
  if (!version.startsWith('Version 7.')) throw new Error(`tools/typescript7 holds ${version}, not 7.x`)
  return { name: 'TypeScript 7', bin }
}

/** One `error TS…` line of `tsc --pretty false`. */
export type Diagnostic = { file: string; line: number; column: number; code: string; message: string }

const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/

/**
 * Run `tsc -p <project>` and parse its errors.
 *
 * @param compiler - which TypeScript
 * @param cwd - the directory to run in
 * @param project - the tsconfig file, relative to `cwd`
 * @returns the errors (file paths as tsc prints them, relative to `cwd`) and tsc's whole output
 */
export function typeCheck(
  compiler: Compiler,
  cwd: string,
  project: string,
): Promise<{ diagnostics: Diagnostic[]; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [compiler.bin, '-p', project, '--pretty', 'false'],
      { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (_error, stdout, stderr) => {
        const output = `${stdout}${stderr}`
        const diagnostics: Diagnostic[] = []
        for (const line of output.split('\n')) {
          const match = DIAGNOSTIC.exec(line)
          if (!match) continue
          const [, file = '', row = '0', column = '0', code = '', message = ''] = match
          diagnostics.push({ file, line: Number(row), column: Number(column), code, message })
        }
        resolve({ diagnostics, output })
      },
    )
  })
}
