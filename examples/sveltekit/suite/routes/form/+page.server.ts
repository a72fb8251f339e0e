import { fail, redirect } from '@sveltejs/kit'
import { UNREACHABLE_FIELD } from 'ruts/testing/server'
import type { Actions } from './$types'

export const actions: Actions = {
  /** A form action that writes, regenerates and redirects: the cookie must survive the redirect. */
  login: async ({ locals, request }) => {
    await locals.session.update('user', String((await request.formData()).get('name')))
    await locals.session.regenerate()
    redirect(303, '/get?field=user')
  },
  /** A form action that writes, meets a store failure, catches it and answers `fail(503)`. */
  caught: async ({ locals }) => {
    await locals.session.update('seen', true)
    try {
      await locals.session.get(UNREACHABLE_FIELD)
    } catch {
      return fail(503, { retry: true })
    }
    return { retry: false }
  },
}
