import { withSession } from 'ruts/next'
import { CONTROL_PREFIX, storeControlResponse, suiteHandler, suiteResponse } from 'ruts/testing/server'
import { layer, store } from '../../suite/layer'

const handler = withSession(layer, async (request, session) =>
  suiteResponse(await suiteHandler(session, new URL(request.url)), request),
)

/** Every suite route, and the control routes the test process drives the counting store with. */
export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url)
  return url.pathname.startsWith(CONTROL_PREFIX) ? storeControlResponse(store, url) : handler(request)
}
