// The session layer's own cost per request, without HTTP: open a handle on a signed cookie, run
// the scenario's calls on a MemoryStore, commit. Run after a build: `npm run build && npx tsx
// bench/micro.ts` (it imports the built package, like the bench servers). Prints µs of process CPU
// per request for rounds 2–4 of 50 000 requests each (round 1 warms up).
import { MemoryStore, SessionLayer } from 'ruts'

const REQUESTS = 50_000
const layer = new SessionLayer<{ count: number }>({
  store: new MemoryStore(),
  secret: 'micro-bench-secret-0123456789-abcdef',
  cookie: { maxAge: 3600, secure: false },
})
const first = layer.open(undefined)
await first.update('count', 0)
const cookie = String((await first.commit()) ?? '').split(';')[0] as string

const scenarios: Record<string, () => Promise<unknown>> = {
  counter: async () => {
    const session = layer.open(cookie)
    await session.update('count', ((await session.get('count')) ?? 0) + 1)
    return session.commit()
  },
  read: async () => {
    const session = layer.open(cookie)
    await session.get('count')
    return session.commit()
  },
  create: async () => {
    const session = layer.open(undefined)
    await session.update('count', 1)
    return session.commit()
  },
}

for (const [name, run] of Object.entries(scenarios)) {
  const rounds: string[] = []
  for (let round = 0; round < 4; round++) {
    const before = process.cpuUsage()
    for (let i = 0; i < REQUESTS; i++) await run()
    const used = process.cpuUsage(before)
    if (round > 0) rounds.push(((used.user + used.system) / REQUESTS).toFixed(2))
  }
  console.log(`${name.padEnd(8)} ${rounds.join('  ')} µs per request`)
}
