import adapter from '@sveltejs/adapter-node'

// The repo's tests also build this project with RUTS_SUITE=1: the adapter behaviour suite's own
// routes and hook (suite/, see suite/README.md) in place of the example's, into build-suite/.
const suite = process.env.RUTS_SUITE === '1'

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter: adapter({ out: suite ? 'build-suite' : 'build' }),
    ...(suite ? { files: { routes: 'suite/routes', hooks: { server: 'suite/hooks.server' } } } : {}),
  },
}
