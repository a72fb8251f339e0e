import { defineNitroPlugin } from 'nitropack/runtime' // auto-imported in Nuxt
import { nitroPlugin } from 'ruts/h3'

// Server-side useFetch and $fetch of this app's own routes read the response as soon as the route
// returns or throws: the plugin makes Nitro wait until the session is committed.
export default defineNitroPlugin(nitroPlugin)
