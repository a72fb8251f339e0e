import { withSession } from 'ruts/next'
import { layer } from '../../session'

// A Route Handler: the session cookie is added to the Response it returns.
export const GET = withSession(layer, async (_request, session) => {
  const count = ((await session.get('count')) ?? 0) + 1
  await session.update('count', count)
  return Response.json({ count })
})
