import { defineEventHandler } from 'h3'
import { sessionOf } from 'ruts/h3'
import { layer } from '../utils/session'

/** The page's data, read by its useFetch during the server render and in the browser. */
export default defineEventHandler(async (event) => {
  const visit = sessionOf(event, layer)
  const [user, count, failures] = await Promise.all([visit.get('user'), visit.get('count'), visit.get('failures')])
  return { user: user ?? null, count: count ?? 0, failures: failures ?? 0 }
})
