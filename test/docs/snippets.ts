import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Where a block runs: Node (the default), Bun or Deno with their own globals, or a Next.js,
 * SvelteKit or Nuxt project.
 */
export type SnippetRuntime = 'node' | 'bun' | 'deno' | 'next' | 'sveltekit' | 'nuxt'
const RUNTIMES: readonly string[] = ['node', 'bun', 'deno', 'next', 'sveltekit', 'nuxt']

/** One ```ts block of the docs, with the directives of its `<!-- snippet: … -->` comment. */
export type Snippet = {
  /** The markdown file, relative to the repository root. */
  source: string
  /** 1-based line of the first code line (the line after the opening fence). */
  line: number
  code: string
  /** `name=…`: a complete example that fragments of the same markdown file can refer to. */
  name?: string
  /** `fragment=…`: the complete example this block continues; checked appended to it. */
  fragment?: string
  /**
   * `file=…`: its path in the project (multi-file examples such as Next's `@/lib/session`, where `@/`
   * is the project root). The same path on two pages must hold the same code.
   */
  file?: string
  runtime: SnippetRuntime
  /** `run` or `run=/path`: started briefly, and the path must answer 200. */
  run?: string
}

const FENCE = /^```(\w*)\s*$/
const DIRECTIVE = /^<!--\s*snippet:(.*?)-->\s*$/
const TYPESCRIPT = new Set(['ts', 'typescript', 'tsx'])

/** Markdown files whose TypeScript blocks are checked: README.md and docs/*.md (docs/api/ is generated). */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`)
  return ['README.md', ...docs]
}

/**
 * The TypeScript blocks of one markdown text. A `<!-- snippet: key=value flag … -->` line directly
 * above a fence sets its directives; an unknown directive is an error, so a typo cannot silently
 * turn a check off.
 */
export function extractSnippets(source: string, text: string): Snippet[] {
  const lines = text.split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    let end = i + 1
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++
    if (TYPESCRIPT.has(open[1] ?? '')) {
      const directive = DIRECTIVE.exec(lines[i - 1] ?? '')
      const snippet: Snippet = { source, line: i + 2, code: lines.slice(i + 1, end).join('\n'), runtime: 'node' }
      if (directive) applyDirectives(snippet, directive[1] ?? '')
      snippets.push(snippet)
    }
    i = end
  }
  return snippets
}

function applyDirectives(snippet: Snippet, text: string): void {
  const where = `${snippet.source}:${snippet.line - 1}`
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const [key = '', value] = token.split('=', 2)
    if (!['run', 'name', 'fragment', 'file', 'runtime'].includes(key))
      throw new Error(`${where}: unknown snippet directive ${token}`)
    if (key === 'run') snippet.run = value ?? '/'
    else if (value === undefined || value === '') throw new Error(`${where}: snippet directive ${key} needs a value`)
    else if (key === 'name') snippet.name = value
    else if (key === 'fragment') snippet.fragment = value
    else if (key === 'file') snippet.file = value
    else if (key === 'runtime' && RUNTIMES.includes(value)) snippet.runtime = value as SnippetRuntime
    else throw new Error(`${where}: snippet directive ${token} has an unknown value`)
  }
}

/** Every TypeScript block of the repository's documentation. */
export function collectSnippets(root: string): Snippet[] {
  return documentationFiles(root).flatMap((file) => extractSnippets(file, readFileSync(join(root, file), 'utf8')))
}

/** A file of the consumer project and where its lines came from. */
export type ProjectFile = {
  path: string
  text: string
  runtime: SnippetRuntime
  snippet: Snippet
  /** Lines of the file before the snippet's own first line (a fragment follows its example). */
  offset: number
}

/**
 * The consumer project's files: one module per complete block (at `file=` when given), and one per
 * fragment holding its example followed by the fragment, so the fragment sees the example's imports
 * and definitions. A fragment opens with a `//` comment, so a reader sees that it continues something.
 */
export function projectFiles(snippets: Snippet[]): ProjectFile[] {
  const named = new Map<string, Snippet>()
  for (const snippet of snippets) {
    if (snippet.name === undefined) continue
    const key = `${snippet.source}#${snippet.name}`
    if (named.has(key)) throw new Error(`${label(snippet)}: a second example named ${snippet.name}`)
    named.set(key, snippet)
  }
  const written = new Map<string, string>()
  const files: ProjectFile[] = []
  for (const snippet of snippets) {
    const path =
      snippet.file === undefined ? `snippets/${slug(snippet.source)}_${snippet.line}.ts` : `files/${snippet.file}`
    // The same file shown on two pages (README and docs/) must read the same: checked once.
    const earlier = written.get(path)
    if (earlier === snippet.code) continue
    if (earlier !== undefined) throw new Error(`${label(snippet)}: ${snippet.file} differs from its other copy`)
    written.set(path, snippet.code)
    files.push(projectFile(snippet, path, named))
  }
  return files
}

function projectFile(snippet: Snippet, path: string, named: ReadonlyMap<string, Snippet>): ProjectFile {
  if (snippet.fragment === undefined) return { path, text: snippet.code, runtime: snippet.runtime, snippet, offset: 0 }
  // A fragment may continue another fragment: the chain is pasted in order.
  const chain: Snippet[] = []
  for (let link: Snippet = snippet; link.fragment !== undefined; ) {
    if (!link.code.startsWith('//')) throw new Error(`${label(link)}: a fragment opens with a // comment`)
    const example = named.get(`${link.source}#${link.fragment}`)
    if (!example) throw new Error(`${label(link)}: fragment of ${link.fragment}, but no block is named so`)
    if (chain.includes(example) || example === snippet) throw new Error(`${label(link)}: a cycle of fragments`)
    chain.unshift(example)
    link = example
  }
  const prefix = chain.map((link) => `${link.code}\n`).join('')
  const offset = prefix.split('\n').length - 1
  const runtime = [snippet, ...chain.reverse()].find((link) => link.runtime !== 'node')?.runtime ?? 'node'
  return { path, text: `${prefix}${snippet.code}\n`, runtime, snippet, offset }
}

/** A markdown file's name as a directory name: `docs/redis.md` → `docs_redis_md`. */
export const slug = (source: string): string => source.replace(/[/.]/g, '_')

/** `README.md:123`, the way an editor opens it. */
export const label = (snippet: Snippet, line = 0): string => `${snippet.source}:${snippet.line + line}`
