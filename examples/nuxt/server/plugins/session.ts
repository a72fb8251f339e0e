import { defineNitroPlugin } from 'nitropack/runtime' // auto-imported in Nuxt
import { untilCommitted } from 'ruts/h3'

// Server-side useFetch and $fetch of this app's own routes read the response as soon as the route
// returns; afterResponse lets them wait until the session is committed.
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('afterResponse', untilCommitted)
})
