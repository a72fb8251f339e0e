import { createError, defineEventHandler, readBody, sendRedirect } from 'h3'
import { sessionOf } from 'ruts/h3'
import { layer } from '../utils/session'

/** The page's login form: a new session id for the signed-in user, then back to the page. */
export default defineEventHandler(async (event) => {
  const visit = sessionOf(event, layer)
  const { name } = (await readBody<{ name?: string }>(event)) ?? {}
  if (typeof name !== 'string' || !/^\w{1,40}$/.test(name)) {
    // The failed attempt is kept, and its cookie still sent with the error.
    await visit.increment('failures')
    throw createError({ statusCode: 422, statusMessage: 'Enter a name of letters and digits' })
  }
  await visit.update('user', name)
  await visit.regenerate() // a new id once signed in: an id planted before the login is worthless
  return sendRedirect(event, '/', 303)
})
