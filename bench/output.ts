import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderMarkdown } from './report.js'
import type { RunResults } from './types.js'

/**
 * Write results.json and RESULTS.md into `dir`. RESULTS.md is passed through the repo's formatter
 * (Biome aligns the table columns), so a fresh run leaves `npm run lint` clean.
 *
 * @returns the Markdown, for the console
 */
export async function writeResults(dir: string, results: RunResults): Promise<string> {
  const markdown = renderMarkdown(results)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
  const file = join(dir, 'RESULTS.md')
  await writeFile(file, markdown)
  try {
    execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' })
  } catch {
    // Unformatted Markdown is still correct Markdown; only the column alignment is lost.
  }
  return markdown
}
