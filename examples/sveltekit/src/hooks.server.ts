import { session } from 'ruts/sveltekit'
import { layer } from '$lib/server/session'

// Every load, form action and endpoint gets event.locals.session. Compose with other hooks through
// sequence(session(layer), …) from '@sveltejs/kit/hooks'.
export const handle = session(layer)
