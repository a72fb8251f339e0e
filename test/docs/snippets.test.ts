import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Compiler, type Diagnostic, typeCheck, typescript7, typescript59 } from '../helpers/typescript.js'
import {
  collectSnippets,
  extractSnippets,
  label,
  type ProjectFile,
  projectFiles,
  type SnippetRuntime,
} from './snippets.js'

// Every TypeScript block of README.md and docs/*.md, type-checked as a consumer pastes it: imports of
// 'ruts', 'ruts/express', … resolve through the package's exports map to the BUILT dist/, under
// TypeScript 5.9 and 7, and the blocks marked `run` are started and asked for one page. The
// conventions are in docs/contributing-docs.md.
const root = fileURLToPath(new URL('../..', import.meta.url))
const built = existsSync(join(root, 'dist/index.js'))
if (!built && process.env.CI === 'true') throw new Error('dist/ is missing: `npm test` builds before it runs')

// A block that must fail, checked in the same program: proves a broken block is reported, at its line.
const canary = extractSnippets('canary.md', "Text\n\n```ts\nconst count: number = 'one'\n```\n")[0]

const strict = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  moduleDetection: 'force',
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
}

// Each runtime's type environment as its own documentation sets it up.
const environments: Record<SnippetRuntime, object> = {
  // The settings the README recommends for Node (module/moduleResolution node16 or nodenext).
  node: { target: 'ES2022', module: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'] },
  // bun init's tsconfig.
  bun: { target: 'ESNext', module: 'Preserve', moduleResolution: 'bundler', lib: ['ESNext'], types: ['bun'] },
  // Deno's own declarations (`deno types`, included as a file), without DOM or Node globals.
  deno: { target: 'ESNext', module: 'NodeNext', lib: ['ESNext'], types: [] },
  // create-next-app's tsconfig: bundler resolution and the `@/*` alias.
  next: { target: 'ES2017', module: 'esnext', moduleResolution: 'bundler', lib: ['dom', 'esnext'], types: ['node'] },
  // The tsconfig `svelte-kit sync` generates.
  sveltekit: {
    target: 'ESNext',
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['esnext', 'DOM'],
    types: ['node'],
  },
  // The tsconfig Nuxt generates for server code (.nuxt/tsconfig.server.json): bundler resolution.
  nuxt: { target: 'ESNext', module: 'ESNext', moduleResolution: 'bundler', lib: ['esnext'], types: ['node'] },
}
// Next.js, SvelteKit and Nuxt are not installed at the root: their few APIs the blocks use, declared.
const frameworkShims = join(root, 'test/docs/framework-shims.d.ts')

/** One tsc program per runtime. */
const programOf = (file: ProjectFile): string => file.runtime

const project = join(root, '.tmp', `snippets-${process.pid}`)
const snippets = built ? collectSnippets(root) : []
const files = built && canary ? projectFiles([...snippets, canary]) : []
const programs = [...new Set(files.map(programOf))]

beforeAll(() => {
  if (!built) return
  rmSync(project, { recursive: true, force: true })
  mkdirSync(join(project, 'node_modules'), { recursive: true })
  // The package as a consumer installs it: its exports map and dist/, nothing from src/.
  symlinkSync(root, join(project, 'node_modules/ruts'))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  for (const file of files) {
    mkdirSync(dirname(join(project, file.path)), { recursive: true })
    writeFileSync(join(project, file.path), `${file.text}\n`)
  }
  const deno = execFileSync(join(root, 'node_modules/.bin/deno'), ['types'], { encoding: 'utf8' })
  // Deno's own lib names (deno.net, …) are inlined in this output; tsc knows only its standard libs.
  writeFileSync(
    join(project, 'deno.d.ts'),
    deno.replace(/^\/\/\/ <reference (no-default-lib="true"|lib="deno\.[^"]*") \/>$/gm, ''),
  )
  for (const name of programs) {
    const members = files.filter((file) => programOf(file) === name)
    const runtime = members[0]?.runtime ?? 'node'
    const include = members.map((file) => file.path)
    if (runtime === 'deno') include.push('deno.d.ts')
    if (runtime === 'next' || runtime === 'sveltekit' || runtime === 'nuxt') include.push(frameworkShims)
    const paths = runtime === 'next' ? { paths: { '@/*': ['./files/*'] } } : {}
    const compilerOptions = { ...strict, ...environments[runtime], ...paths }
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: include }, null, 2))
  }
})

afterAll(() => {
  if (!process.env.KEEP_SNIPPETS) rmSync(project, { recursive: true, force: true })
})

/** Type-check every program with one compiler; errors mapped back to their markdown lines. */
async function check(compiler: Compiler): Promise<{ located: string[]; unmapped: Diagnostic[] }> {
  const byPath = new Map(files.map((file) => [file.path, file]))
  // Two compilers at a time: on a loaded machine more only make each slower.
  const runs: Diagnostic[][] = []
  const queue = [...programs]
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      runs.push((await typeCheck(compiler, project, `tsconfig.${name}.json`)).diagnostics)
    }
  }
  await Promise.all([worker(), worker()])
  const located: string[] = []
  const unmapped: Diagnostic[] = []
  for (const diagnostic of runs.flat()) {
    const file = byPath.get(diagnostic.file.replace(/\\/g, '/'))
    if (!file) unmapped.push(diagnostic)
    else {
      const where =
        diagnostic.line > file.offset
          ? label(file.snippet, diagnostic.line - file.offset - 1)
          : `${label(file.snippet)} (in its example, line ${diagnostic.line})`
      located.push(`${where}: ${diagnostic.code} ${diagnostic.message}`)
    }
  }
  return { located, unmapped }
}

describe.skipIf(!built)('documentation code blocks', () => {
  it('finds the blocks of README.md and docs/*.md, and a directive typo is an error', () => {
    expect(snippets.filter((snippet) => snippet.source === 'README.md').length).toBeGreaterThan(15)
    expect(() => extractSnippets('x.md', '<!-- snippet: rnu -->\n```ts\n1\n```\n')).toThrow(/unknown snippet directive/)
    expect(() => projectFiles(extractSnippets('x.md', '<!-- snippet: fragment=nope -->\n```ts\n//\n```\n'))).toThrow(
      /no block is named so/,
    )
    const unmarked = '<!-- snippet: name=a -->\n```ts\n1\n```\n<!-- snippet: fragment=a -->\n```ts\n2\n```\n'
    expect(() => projectFiles(extractSnippets('x.md', unmarked))).toThrow(/opens with a \/\/ comment/)
  })

  for (const compiler of [typescript59, typescript7]) {
    it(`compile as pasted under ${compiler === typescript59 ? 'TypeScript 5.9' : 'TypeScript 7'}`, async () => {
      const { located, unmapped } = await check(compiler())
      expect(unmapped).toEqual([])
      // The canary's error is found at its markdown line: a broken block cannot go unnoticed.
      expect(located.filter((line) => line.startsWith('canary.md'))).toEqual([
        expect.stringMatching(/^canary\.md:4: TS2322 /),
      ])
      expect(located.filter((line) => !line.startsWith('canary.md'))).toEqual([])
    }, 300_000) // TypeScript 5.9: ~40 s of CPU over the four programs; minutes when the machine is loaded
  }

  const runnable = files.filter((file) => file.snippet.run !== undefined)
  it.each(runnable.map((file) => [label(file.snippet), file] as const))(
    '%s runs and answers',
    async (_, file) => {
      const { port, child } = await start(file.path)
      try {
        const response = await fetch(`http://127.0.0.1:${port}${file.snippet.run}`)
        expect(response.status).toBe(200)
      } finally {
        child.kill()
      }
    },
    90_000, // tsx compiling the block takes a second, or a minute on a loaded machine
  )
})

/** Start a block under tsx with every `listen()` moved to an ephemeral loopback port. */
function start(path: string): Promise<{ port: number; child: ChildProcess }> {
  const preload = join(root, 'test/docs/ephemeral-port.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', preload, path], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`${path} did not listen within 60 s:\n${output}`))
    }, 60_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ruts-snippet-listening (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ port: Number(match[1]), child })
      }
    }
    child.stdout?.on('data', read)
    child.stderr?.on('data', read)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${path} exited (${code}) before listening:\n${output}`))
    })
  })
}
