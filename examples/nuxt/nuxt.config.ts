// Nitro's server build targets a runtime without top-level await; server/utils/session.ts awaits the
// Redis connection at the top level, so the server code is built for ES2022.
export default defineNuxtConfig({
  compatibilityDate: '2026-05-01',
  devtools: { enabled: false },
  telemetry: false,
  nitro: { esbuild: { options: { target: 'es2022' } } },
})
