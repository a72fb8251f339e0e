import { redirect } from '@sveltejs/kit'
import type { Actions } from './$types'

export const actions: Actions = {
  /** A form action that writes, regenerates and redirects: the cookie must survive the redirect. */
  login: async ({ locals, request }) => {
    await locals.session.update('user', String((await request.formData()).get('name')))
    await locals.session.regenerate()
    redirect(303, '/get?field=user')
  },
}
