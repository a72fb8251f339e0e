import { suiteHandler, suiteResponse } from 'ruts/testing/server'
import type { RequestHandler } from './$types'

/** Every suite route, through `event.locals.session`. */
export const GET: RequestHandler = async ({ locals, request, url }) =>
  suiteResponse(await suiteHandler(locals.session, url), request)
