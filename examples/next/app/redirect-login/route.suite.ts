import { redirect } from 'next/navigation'
import { withSession } from 'ruts/next'
import { layer } from '../../suite/layer'

/** A Route Handler login: writes, regenerates, then `redirect()`, which Next answers itself. */
export const GET = withSession(layer, async (request, session) => {
  await session.update('user', new URL(request.url).searchParams.get('name') ?? 'ada')
  await session.regenerate()
  redirect('/get-all')
})
