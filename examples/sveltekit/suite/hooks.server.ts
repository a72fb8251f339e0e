import type { Handle } from '@sveltejs/kit'
import { sequence } from '@sveltejs/kit/hooks'
import { session } from 'ruts/sveltekit'
import { CONTROL_PREFIX, storeControlResponse } from 'ruts/testing/server'
import { layer, store } from './layer'

/** The control routes the test process drives the counting store with. */
const control: Handle = ({ event, resolve }) =>
  event.url.pathname.startsWith(CONTROL_PREFIX) ? storeControlResponse(store, event.url) : resolve(event)

// Composed with sequence, as an app with other hooks would.
export const handle = sequence(control, session(layer))
