import { UNREACHABLE_FIELD } from 'ruts/testing/server'
import type { PageServerLoad } from './$types'

/** A load that meets a store failure, catches it, and streams a promise that takes 4 s. */
export const load: PageServerLoad = async ({ locals }) => ({
  seen: await locals.session.get(UNREACHABLE_FIELD).catch(() => null),
  slow: new Promise<string>((resolve) => setTimeout(() => resolve('done'), 4_000)),
})
