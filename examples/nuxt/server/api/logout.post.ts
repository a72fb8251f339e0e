import { defineEventHandler, sendRedirect } from 'h3'
import { sessionOf } from 'ruts/h3'
import { layer } from '../utils/session'

export default defineEventHandler(async (event) => {
  await sessionOf(event, layer).delete()
  return sendRedirect(event, '/', 303)
})
