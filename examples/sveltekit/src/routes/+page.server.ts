import { redirect } from '@sveltejs/kit'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ locals }) => ({
  user: (await locals.session.get('user')) ?? null,
  count: (await locals.session.get('count')) ?? 0,
})

export const actions: Actions = {
  /** Log in: store the name, then move the session to a fresh id (no session fixation). */
  login: async ({ locals, request }) => {
    const name = (await request.formData()).get('name')
    await locals.session.update('user', typeof name === 'string' && name !== '' ? name : 'anonymous')
    await locals.session.regenerate()
    // The hook adds the cookie to the redirect response.
    redirect(303, '/')
  },
  increment: async ({ locals }) => {
    await locals.session.update('count', ((await locals.session.get('count')) ?? 0) + 1)
  },
  logout: async ({ locals }) => {
    await locals.session.delete()
    redirect(303, '/')
  },
}
