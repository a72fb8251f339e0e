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
  ...readdirSync('src/adapters')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'node.ts')
    .map((file) => `src/adapters/${file}`),
  ...readdirSync('src/stores', { withFileTypes: true })
    .filter((entry) => entry.name !== 'memory.ts' && !entry.name.endsWith('.test.ts'))
    .map((entry) => (entry.isDirectory() ? `src/stores/${entry.name}/index.ts` : `src/stores/${entry.name}`)),
]
for (const entry of entries) if (!exported.has(entry)) problems.push(`${entry} has no subpath in package.json exports`)

if (problems.length > 0) {
  console.error(`exports map out of step with the build:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`exports map ok: ${Object.keys(manifest.exports).length} subpaths`)
