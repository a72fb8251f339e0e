// Re-render RESULTS.md from a results.json (e.g. after a change to the report), without rerunning.
// Usage: npx tsx bench/render.ts [dir containing results.json; default bench/]
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeResults } from './output.js'
import type { RunResults } from './types.js'

const dir = resolve(process.argv[2] ?? fileURLToPath(new URL('.', import.meta.url)))
const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResults
await writeResults(dir, results)
console.log(`wrote ${join(dir, 'RESULTS.md')}`)
