// Summarise a `--cpu-prof` profile written by `npm run bench -- --cpu-prof`: where the server's
// CPU time went, by function, with ruts' own code (src/** under tsx, dist/** in the bench) listed separately.
// Usage: npx tsx bench/profile-summary.ts bench/.work/profiles/<contender>.cpuprofile [top=25]
import { readFile } from 'node:fs/promises'

/** ruts' own modules: the TypeScript source, or the build the bench servers run. */
const RUTS_CODE = /\/(src|dist)\/(core|adapters|stores|legacy|otel|index)/

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]')
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile
const top = Number(topArg ?? 25)

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

const self = new Map<string, number>()
const inclusiveSrc = new Map<string, number>()
let total = 0
let idle = 0
const label = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/')
  return `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`
}
profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0
  const node = byId.get(id)
  if (node === undefined) return
  if (node.callFrame.functionName === '(idle)' || node.callFrame.functionName === '(program)') {
    idle += micros
    return
  }
  total += micros
  self.set(label(node), (self.get(label(node)) ?? 0) + micros)
  // Inclusive time of every src/** frame on the stack (each counted once per sample).
  const seen = new Set<string>()
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const frame = byId.get(current)
    const url = frame?.callFrame.url ?? ''
    if (frame === undefined || !RUTS_CODE.test(url) || url.includes('/node_modules/')) continue
    const key = label(frame)
    if (seen.has(key)) continue
    seen.add(key)
    inclusiveSrc.set(key, (inclusiveSrc.get(key) ?? 0) + micros)
  }
})

const pct = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)}%`
console.log(
  `busy ${(total / 1000).toFixed(0)} ms, idle/program ${(idle / 1000).toFixed(0)} ms\n\nself time, top ${top}:`,
)
for (const [name, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(micros)}  ${name}`)
console.log(`\ninclusive time of ruts frames (src/**), top ${top}:`)
for (const [name, micros] of [...inclusiveSrc].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(micros)}  ${name}`)
