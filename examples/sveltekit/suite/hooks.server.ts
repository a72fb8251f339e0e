import { type Handle, redirect } from '@sveltejs/kit'
import { sequence } from '@sveltejs/kit/hooks'
import { session } from 'ruts/sveltekit'
import { CONTROL_PREFIX, storeControlResponse } from 'ruts/testing/server'
import { layer, store } from './layer'

/** The control routes the test process drives the counting store with. */
const control: Handle = ({ event, resolve }) =>
  event.url.pathname.startsWith(CONTROL_PREFIX) ? storeControlResponse(store, event.url) : resolve(event)

/** A later hook that logs in and redirects (an auth flow in a hook): SvelteKit answers it itself. */
const login: Handle = async ({ event, resolve }) => {
  if (event.url.pathname !== '/hook/login') return resolve(event)
  await event.locals.session.update('user', event.url.searchParams.get('name') ?? 'ada')
  await event.locals.session.regenerate()
  redirect(303, '/get-all')
}

// Composed with sequence, as an app with other hooks would.
export const handle = sequence(control, session(layer), login)
