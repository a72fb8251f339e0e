import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeAdapterBehaviour, type RunningServer } from '../../src/testing/adapter-suite.js'
import { CookieClient, maxAgeOf } from '../../src/testing/http-client.js'
import { type AppCommand, startApp } from './app-server.js'

// examples/sveltekit, built by `npm run test:frameworks` with adapter-node: build-suite/ holds the
// suite's routes and hook (RUTS_SUITE=1), build/ the example itself.
const cwd = fileURLToPath(new URL('../../examples/sveltekit/', import.meta.url))
const env = (port: number) => ({ PORT: String(port), HOST: '127.0.0.1', ORIGIN: `http://127.0.0.1:${port}` })
const suiteApp: AppCommand = { command: [process.execPath, 'build-suite'], cwd, env }
const exampleApp: AppCommand = { command: [process.execPath, 'build'], cwd, env, ready: '/' }

describeAdapterBehaviour({
  name: 'SvelteKit 2 handle hook (adapter-node)',
  start: (layer) => startApp(suiteApp, layer.cookie.maxAge),
})

/** POST a form action the way a browser without JavaScript does. */
const submit = (server: RunningServer, path: string, form: Record<string, string>, cookie?: string) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: server.url, accept: 'text/html', ...(cookie === undefined ? {} : { cookie }) },
    body: new URLSearchParams(form),
  })

describe('SvelteKit form actions (adapter-node)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startApp(suiteApp)
  })
  afterAll(() => server?.close())

  it('keeps the cookie of a form action that writes, regenerates and throws redirect()', async () => {
    const client = new CookieClient(server.url)
    await client.request('/update?field=cart&value=2')
    const before = client.value
    const response = await submit(server, '/form?/login', { name: 'ada' }, `session=${before}`)
    expect(response.status).toBe(303)
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('session=')) ?? ''
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; /)
    expect(maxAgeOf(cookie)).toBeGreaterThan(3590)
    client.value = cookie.slice('session='.length, cookie.indexOf(';'))
    expect(client.value).not.toBe(before)
    expect((await client.request('/get-all')).json).toEqual({ all: { cart: 2, user: 'ada' }, id: client.value })
  })

  it('keeps the cookie when a later hook writes, regenerates and throws redirect() (SvelteKit answers it)', async () => {
    const client = new CookieClient(server.url)
    await client.request('/update?field=cart&value=2')
    const before = client.value
    const response = await fetch(`${server.url}/hook/login?name=ada`, {
      redirect: 'manual',
      headers: { cookie: `session=${before}` },
    })
    expect(response.status).toBe(303)
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('session=')) ?? ''
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/i)
    client.value = cookie.slice('session='.length, cookie.indexOf(';'))
    expect(client.value).not.toBe(before)
    expect((await client.request('/get-all')).json).toEqual({ all: { cart: 2, user: 'ada' }, id: client.value })
  })

  it('answers 503 without a cookie when an action submitted with use:enhance catches a store failure and fails', async () => {
    // use:enhance asks for JSON, and SvelteKit reports fail(503) inside a 200.
    const enhanced = { accept: 'application/json', 'x-sveltekit-action': 'true', origin: server.url }
    const response = await fetch(`${server.url}/form?/caught`, { method: 'POST', headers: enhanced, body: '' })
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(await response.json()).toMatchObject({ type: 'failure', status: 503 })
  })
})

describe('SvelteKit loads (adapter-node)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startApp(suiteApp)
  })
  afterAll(() => server?.close())

  it('answers a store failure in a load 503 without a cookie, on a page and on its data request', async () => {
    // Client-side navigation asks __data.json, where SvelteKit reports a failed load inside a 200.
    for (const path of ['/loads/unreachable', '/loads/unreachable/__data.json']) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status).toBe(503)
      expect(response.headers.getSetCookie()).toEqual([])
    }
  })

  it('streams a data request whose load caught a store failure: reading its status does not wait for it', async () => {
    // A live session, so that the load's read reaches the (failing) store.
    const client = new CookieClient(server.url)
    await client.request('/update?field=cart&value=1')
    const started = performance.now()
    const response = await fetch(`${server.url}/loads/streamed/__data.json`, {
      headers: { cookie: `session=${client.value}` },
    })
    const waited = performance.now() - started
    await response.body?.cancel()
    expect(response.status).toBe(200)
    // The load's promise takes 4 s; the hook reads only the first line.
    expect(waited).toBeLessThan(2_500)
  })

  it('marks no-store a page that carries the session cookie an event.fetch to its own endpoint set', async () => {
    const response = await fetch(`${server.url}/loads/inner`)
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie().some((line) => line.startsWith('session='))).toBe(true)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })
})

describe('the SvelteKit example (adapter-node)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startApp(exampleApp)
  })
  afterAll(() => server?.close())

  const page = async (cookie: string) =>
    (await (await fetch(server.url, { headers: { cookie } })).text()).match(/<p id="(?:who|count)">([^<]*)/g)

  it('counts, logs in and logs out through its form actions', async () => {
    const counted = await submit(server, '/?/increment', {})
    expect(counted.status).toBe(200)
    const first = counted.headers.getSetCookie()[0] ?? ''
    const cookie = first.slice(0, first.indexOf(';'))
    expect(cookie).toMatch(/^session=[A-Za-z0-9_-]{22}$/)
    expect(await page(cookie)).toEqual(['<p id="who">Not logged in.', '<p id="count">Count: 1'])

    const login = await submit(server, '/?/login', { name: 'Ada' }, cookie)
    expect(login.status).toBe(303)
    const renewed = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? ''
    expect(renewed).not.toBe(cookie)
    expect(await page(renewed)).toEqual(['<p id="who">Logged in as Ada', '<p id="count">Count: 1'])

    const logout = await submit(server, '/?/logout', {}, renewed)
    expect(logout.status).toBe(303)
    expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0; /)
    expect(await page(renewed)).toEqual(['<p id="who">Not logged in.', '<p id="count">Count: 0'])
  })
})
