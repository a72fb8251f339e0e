import { UNREACHABLE_FIELD } from 'ruts/testing/server'
import type { PageServerLoad } from './$types'

/** A load that creates the session, then meets a store failure it does not catch. */
export const load: PageServerLoad = async ({ locals }) => {
  await locals.session.update('seen', true)
  await locals.session.get(UNREACHABLE_FIELD)
  return {}
}
