import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Compiler, typeCheck, typescript7, typescript59 } from './helpers/typescript.js'

// The package as `npm pack` makes it: what is in it, whether its links and source maps resolve there,
// and whether a consumer project type-checks against it with TypeScript 5.9 and 7, as ESM and as
// CommonJS, under the module settings the README states.
const root = fileURLToPath(new URL('..', import.meta.url))
const built = existsSync(join(root, 'dist/index.js'))
if (!built && process.env.CI === 'true') throw new Error('dist/ is missing: `npm test` builds before it runs')

const work = join(root, '.tmp', `consumer-${process.pid}`)
const installed = join(work, 'node_modules/ruts')
let files: string[] = []

beforeAll(() => {
  if (!built) return
  rmSync(work, { recursive: true, force: true })
  mkdirSync(installed, { recursive: true })
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as { filename: string; files: { path: string }[] }[]
  if (!pack) throw new Error('npm pack reported nothing')
  files = pack.files.map((file) => file.path).sort()
  // Unpacked as npm installs it; its dependencies and the frameworks' types resolve from the
  // repository's node_modules further up, as they would from the consumer's own.
  execFileSync('tar', ['-xzf', join(work, pack.filename), '-C', installed, '--strip-components=1'])
}, 120_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe.skipIf(!built)('the packed package', () => {
  it('ships the build, its sources, the docs pages, README and LICENSE, and no tests', () => {
    expect(files).toContain('LICENSE')
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'src/index.ts']))
    expect(files.filter((file) => file.startsWith('docs/'))).toEqual(
      expect.arrayContaining(['docs/adapters.md', 'docs/migrating-from-express-session.md']),
    )
    const unexpected = files.filter(
      (file) => !/^(dist|src)\//.test(file) && !/^docs\/[^/]+\.md$/.test(file) && !file.endsWith('.md'),
    )
    expect(unexpected).toEqual(['LICENSE', 'package.json'])
    expect(files.filter((file) => file.includes('.test.') || file.startsWith('test/'))).toEqual([])
  })

  it('every relative link of README.md and the shipped docs names a shipped file', () => {
    const dead: string[] = []
    for (const page of files.filter((file) => file.endsWith('.md'))) {
      const text = readFileSync(join(installed, page), 'utf8')
      for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target)) continue
        const path = normalize(join(dirname(page), target.split('#')[0] ?? ''))
        if (!files.includes(path) && !files.some((file) => file.startsWith(`${path}/`))) {
          dead.push(`${page}: ${target}`)
        }
      }
    }
    expect(dead).toEqual([])
  })

  it('every source map and declaration map points at shipped sources', () => {
    const maps = files.filter((file) => file.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(20)
    const missing: string[] = []
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] }
      for (const source of sources) {
        const path = normalize(join(dirname(map), source))
        if (!files.includes(path)) missing.push(`${map}: ${source}`)
      }
    }
    expect(missing).toEqual([])
  })

  // A consumer's file imports each adapter and store subpath; ESM imports it, CommonJS `import`s it too (compiled to
  // require(), which Node ≥ 20.19 supports for ESM packages and TypeScript allows from 5.8 with
  // module nodenext).
  const consumer = `import { MemoryStore, type Session, SessionLayer, SessionConfigError } from 'ruts'
import { session as expressSession } from 'ruts/express'
import { fastifySession } from 'ruts/fastify'
import { session as honoSession } from 'ruts/hono'
import { session as koaSession } from 'ruts/koa'
import { withSession } from 'ruts/web'
import { RedisStore } from 'ruts/redis'
import { PostgresStore } from 'ruts/postgres'
import { LayeredStore } from 'ruts/layered'
import { checkOptions } from 'ruts/adapter'

type Data = { count: number }
const layer = new SessionLayer<Data>({ store: new MemoryStore(), cookie: { maxAge: 3600 } })
const handle: Session<Data> = layer.open(undefined)
export const count: Promise<number | undefined> = handle.get('count')
export const used = [expressSession(layer), fastifySession, honoSession(layer), koaSession(layer), checkOptions]
export const web = withSession(layer, async (_request, session) => Response.json(await session.get('count')))
export const stores = [RedisStore, PostgresStore, LayeredStore, SessionConfigError]
`
  const cases = [
    { name: 'ESM, module nodenext', type: 'module', module: 'nodenext', errors: [] },
    { name: 'ESM, module node16', type: 'module', module: 'node16', errors: [] },
    { name: 'CommonJS, module nodenext', type: 'commonjs', module: 'nodenext', errors: [] },
    // node16 keeps CommonJS from importing an ES module: the README says to use nodenext.
    { name: 'CommonJS, module node16', type: 'commonjs', module: 'node16', errors: ['TS1479'] },
  ] as const

  for (const compiler of [typescript59, typescript7]) {
    const label = compiler === typescript59 ? 'TypeScript 5.9' : 'TypeScript 7'
    it(`type-checks a consumer project under ${label}: ${cases.map((c) => c.name).join('; ')}`, async () => {
      const tsc: Compiler = compiler()
      const results = await Promise.all(
        cases.map(async (each) => {
          const dir = join(work, `${label.replace(/\W/g, '')}-${each.type}-${each.module}`)
          mkdirSync(dir, { recursive: true })
          writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: each.type, private: true }))
          writeFileSync(join(dir, 'index.ts'), consumer)
          const compilerOptions = {
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            target: 'ES2022',
            module: each.module,
            // TypeScript 7 includes no @types packages unless listed (the README says so).
            types: ['node'],
          }
          writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }))
          const { diagnostics } = await typeCheck(tsc, dir, 'tsconfig.json')
          return { name: each.name, errors: [...new Set(diagnostics.map((d) => d.code))] }
        }),
      )
      expect(results).toEqual(cases.map((each) => ({ name: each.name, errors: [...each.errors] })))
    }, 300_000) // TypeScript 5.9: four programs, each loading every framework's types
  }

  // A Workers/Deno-style project: Web APIs only, no @types/node, and its libraries' declarations
  // checked too (skipLibCheck off). ruts, ruts/web and ruts/hono must not need Node's types.
  it('type-checks a Web-only consumer (no @types/node, skipLibCheck off) of ruts, ruts/web and ruts/hono', async () => {
    const dir = join(work, 'web-only')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
    writeFileSync(
      join(dir, 'index.ts'),
      `import { Hono } from 'hono'
import { MemoryStore, SessionLayer } from 'ruts'
import { type SessionEnv, session } from 'ruts/hono'
import { withSession } from 'ruts/web'

const layer = new SessionLayer<{ count: number }>({ store: new MemoryStore() })
export const app = new Hono<SessionEnv<{ count: number }>>().use(session(layer))
export const fetch = withSession(layer, async (_request, s) => Response.json(await s.get('count')))
`,
    )
    const compilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'ES2022',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }))
    const { diagnostics } = await typeCheck(typescript59(), dir, 'tsconfig.json')
    expect(diagnostics.map((d) => `${d.code} ${d.file}: ${d.message}`)).toEqual([])
  }, 300_000)
})
