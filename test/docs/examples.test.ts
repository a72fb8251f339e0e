import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'
import type { Session, SessionLayer, SessionStore } from '../../src/index.js'
import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { describeStoreConformance } from '../../src/testing/store-conformance.js'
import { listen } from '../helpers/listen.js'
import { extractSnippets } from './snippets.js'

// The "Writing an adapter" and "Implement your own store" examples of the docs, extracted from the
// markdown as they are printed and run through the suites the bundled adapters and stores pass, so
// the examples cannot rot. (test/docs/snippets.test.ts type-checks them against the built package.)
const root = fileURLToPath(new URL('../..', import.meta.url))
const folder = join(root, '.tmp', `doc-examples-${process.pid}`)
mkdirSync(folder, { recursive: true })
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/**
 * Write the docs block `name` of `source` to a module of its own. Its `ruts` imports are pointed at
 * src/ so the example shares the classes (SessionStoreError above all) of the suite that runs it.
 */
function exampleModule(source: string, name: string): string {
  const snippet = extractSnippets(source, readFileSync(join(root, source), 'utf8')).find((s) => s.name === name)
  if (snippet === undefined) throw new Error(`${source} has no block named ${name}`)
  const entries: Record<string, string> = { ruts: 'index.js', 'ruts/adapter': 'adapters/contract/index.js' }
  const code = snippet.code.replace(/from '(ruts(?:\/adapter)?)'/g, (_, path: string) => {
    return `from '${join(root, 'src', entries[path] as string)}'`
  })
  const file = join(folder, `${name}.ts`)
  writeFileSync(file, code)
  return file
}

type Listener = (req: IncomingMessage, res: ServerResponse, session: Session) => Promise<void>
type AdapterModule = {
  withSession: (layer: SessionLayer, listener: Listener) => (req: IncomingMessage, res: ServerResponse) => void
}
const adapter = exampleModule('docs/adapters.md', 'node-adapter')

describeAdapterBehaviour({
  name: 'the node:http adapter of docs/adapters.md on MemoryStore',
  start: async (layer, handler) => {
    const { withSession } = (await import(adapter)) as AdapterModule
    const listener = withSession(layer, async (req, res, session) => {
      const result = await handler(session, new URL(req.url ?? '/', 'http://localhost'))
      for (const cookie of result.setCookies ?? []) res.appendHeader('Set-Cookie', cookie)
      if (result.redirect !== undefined) {
        res.writeHead(302, { location: result.redirect }).end()
      } else {
        res.statusCode = result.status ?? 200
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(result.json))
      }
    })
    return listen(createServer(listener))
  },
})

const store = exampleModule('docs/stores.md', 'map-store')
describeStoreConformance({
  name: 'the MapStore of docs/stores.md',
  create: async () => {
    const { MapStore } = (await import(store)) as { MapStore: new () => SessionStore }
    return new MapStore()
  },
  skipCapabilities: {
    fieldOperations: 'the example keeps to the operations every store must have',
    subjects: 'the example keeps to the operations every store must have',
  },
})
