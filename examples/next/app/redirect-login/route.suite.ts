import { redirect } from 'next/navigation'
import { withSession } from 'ruts/next'
import { layer } from '../../suite/layer'

/** A Route Handler login: writes, regenerates, then `redirect()`, which Next answers itself. */
const login = withSession(layer, async (request, session) => {
  const name = new URL(request.url).searchParams.get('name') ?? 'ada'
  await session.update('user', name)
  await session.regenerate()
  redirect('/get-all')
})

export { login as GET, login as POST }
