// Keeps the exports map and the build in step (after `npm run build`): every subpath points at
// files that exist, and every adapter and store entry point in src/ has its own subpath.
import { existsSync, readdirSync, readFileSync } from 'node:fs'

type Target = { types: string; default: string }
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, Target | string> }
const problems: string[] = []

for (const [subpath, target] of Object.entries(manifest.exports)) {
  const files = typeof target === 'string' ? [target] : [target.types, target.default]
  for (const file of files) if (!existsSync(file)) problems.push(`${subpath} → ${file} is missing from the build`)
}

const exported = new Set(
  Object.values(manifest.exports)
    .filter((target): target is Target => typeof target !== 'string')
    .map((target) => target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')),
)
const entries = [
  ...entryFiles('src/adapters'),
  // A store with a subpath has a folder; loose files (MemoryStore and its helpers) belong to the root entry.
  ...entryFiles('src/stores').filter((entry) => entry.endsWith('/index.ts')),
]
for (const entry of entries) if (!exported.has(entry)) problems.push(`${entry} has no subpath in package.json exports`)

/**
 * The entry points under a folder: each `.ts` file, and each subfolder's `index.ts` (an adapter
 * or store split into several files, like `adapters/contract/` for `ruts/adapter`).
 */
function entryFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')))
    .map((entry) => (entry.isDirectory() ? `${folder}/${entry.name}/index.ts` : `${folder}/${entry.name}`))
}

if (problems.length > 0) {
  console.error(`exports map out of step with the build:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`exports map ok: ${Object.keys(manifest.exports).length} subpaths`)
