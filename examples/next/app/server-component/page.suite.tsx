import { SessionError } from 'ruts'
import { getSession } from 'ruts/next'
import { layer } from '../../suite/layer'

type Search = Promise<{ write?: string; prepare?: string }>

/**
 * A Server Component that reads the suite's session and, with `?write=1`, tries to write it; with
 * `?prepare`, tries `prepareRegenerate()` (synchronous) and reports whether its error names Server
 * Components.
 */
export default async function ServerComponent({ searchParams }: { searchParams: Search }) {
  const session = await getSession(layer)
  const { write, prepare } = await searchParams
  let outcome: unknown = null
  if (write !== undefined) {
    outcome = await session.update('count', Number(write)).catch((error: unknown) => {
      if (error instanceof SessionError) return error.code
      throw error
    })
  }
  if (prepare !== undefined) {
    try {
      session.prepareRegenerate()
    } catch (error) {
      if (!(error instanceof SessionError)) throw error
      outcome = `${error.code}${error.message.includes('Server Component') ? ' (Server Component)' : ''}`
    }
  }
  return <pre id="result">{JSON.stringify({ count: (await session.get('count')) ?? null, outcome })}</pre>
}
