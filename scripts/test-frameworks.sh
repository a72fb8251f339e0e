#!/usr/bin/env bash
# `npm run test:frameworks`: the Next.js, SvelteKit and Nuxt adapters on the frameworks' real
# production servers. Builds ruts, installs each example app (its own package.json and lock: the heavy
# framework dependencies stay out of the root install), builds it, then runs test/frameworks/
# against `next start`, SvelteKit's adapter-node server and Nuxt's Nitro node server. RUTS_SUITE=1
# builds add the adapter behaviour suite's routes (see examples/*/suite/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 NUXT_TELEMETRY_DISABLED=1

log() { printf '\n=== %s\n' "$*"; }
started=$SECONDS

# `ruts` is a file:../.. dependency of each app; --install-links installs it as a packed copy of the
# built package (as from the registry), so the app resolves next / @sveltejs/kit from its own
# node_modules. The copy is removed first so the fresh build is packed again. `npm install --no-save`
# installs what the lockfile pins without rewriting it; `npm ci` would refuse the SvelteKit lock here
# because the registry does not serve vite 8's Windows-only optional dependency
# (napi-windows-process-start-time), which the lock therefore cannot list.
install() {
  rm -rf "$1/node_modules/ruts"
  (cd "$1" && npm install --install-links --no-save --no-audit --no-fund --loglevel=error "${@:2}")
}

# RUTS_DIST_FRESH=1: dist/ was just built from this tree (.ci/run, right after `npm test`).
if [ "${RUTS_DIST_FRESH:-}" = 1 ] && [ -f dist/index.js ]; then
  log 'ruts: using the build in dist/ (RUTS_DIST_FRESH=1)'
else
  log 'build ruts'
  npm run build
fi

# Nuxt installs and builds in the background, beside the two below: its install mostly waits on the
# network and the disk, and keeping it off the critical path is most of the time it would add. Its
# output is printed once it is done. --omit=dev: typescript and vue-tsc are for `npm run typecheck`
# in the example (a ~30 s vue-tsc run, not done here: the test exercises the built app).
log 'Nuxt: install and build, in the background'
nuxt_log=$(mktemp)
(install examples/nuxt --omit=dev && cd examples/nuxt && npm run build) >"$nuxt_log" 2>&1 &
nuxt_pid=$!
trap 'kill "$nuxt_pid" 2>/dev/null || true; rm -f "$nuxt_log"' EXIT

log 'Next.js: install, build with the suite routes (one build serves the suite and the example)'
install examples/next
(cd examples/next && RUTS_SUITE=1 npm run build)

log 'SvelteKit: install, type-check the example, build the example and the suite'
install examples/sveltekit
(cd examples/sveltekit && npm run check && npm run build && RUTS_SUITE=1 npm run build)

log 'Nuxt: wait for its install and build'
if wait "$nuxt_pid"; then
  tail -n 3 "$nuxt_log"
else
  status=$?
  cat "$nuxt_log"
  exit "$status"
fi
trap 'rm -f "$nuxt_log"' EXIT

log 'test the adapters on the built apps'
npx vitest run -c vitest.frameworks.config.ts
log "test:frameworks took $((SECONDS - started)) s"
