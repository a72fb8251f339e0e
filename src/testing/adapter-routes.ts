import type { Session } from '../core/session.js'
import { UNREACHABLE_FIELD } from './counting-store.js'

/** What a suite route asks the framework to send. */
export interface SuiteResponse {
  /** Send this as a JSON body. */
  json?: unknown
  /** The JSON answer's status. @default 200 */
  status?: number
  /** Redirect (302) here instead. */
  redirect?: string
  /** Cookies the handler sets itself, each its own `Set-Cookie` header. */
  setCookies?: string[]
}

/** The one handler every adapter harness routes all `GET` requests to. */
export type SuiteHandler = (session: Session, url: URL) => Promise<SuiteResponse>

const param = (url: URL, name: string): string => url.searchParams.get(name) ?? ''
const valueParam = (url: URL): unknown => JSON.parse(url.searchParams.get('value') ?? 'null')
const ttlParam = (url: URL): { ttl: number } | undefined =>
  url.searchParams.has('ttl') ? { ttl: Number(url.searchParams.get('ttl')) } : undefined
const out = (json: unknown): SuiteResponse => ({ json })

/**
 * The routes of the adapter behaviour suite, framework-neutral. Each harness maps
 * `GET <path>?<query>` to `suiteHandler(session, url)` and sends the {@link SuiteResponse} natively.
 */
export const suiteHandler: SuiteHandler = async (session, url) => {
  switch (url.pathname) {
    case '/get':
      return out({ value: (await session.get(param(url, 'field'))) ?? null, id: session.id ?? null })
    case '/get-all': {
      const all = await session.getAll()
      return out({ all: all === undefined ? null : all.toObject(), id: session.id ?? null })
    }
    case '/update':
      return out({ ok: await session.update(param(url, 'field'), valueParam(url), ttlParam(url)), id: session.id })
    case '/insert':
      return out({ ok: await session.insert(param(url, 'field'), valueParam(url), ttlParam(url)), id: session.id })
    case '/increment': {
      const by = url.searchParams.has('by') ? Number(param(url, 'by')) : 1
      return out({ value: await session.increment(param(url, 'field'), by, ttlParam(url)), id: session.id })
    }
    case '/take':
      return out({ value: (await session.take(param(url, 'field'))) ?? null, id: session.id ?? null })
    case '/count-by-get-and-update': {
      // The racy way to count, for comparison with /increment: read, then write the read value + 1.
      const value = (((await session.get(param(url, 'field'))) as number | undefined) ?? 0) + 1
      await session.update(param(url, 'field'), value)
      return out({ value, id: session.id })
    }
    case '/remove':
      return out({ ok: await session.remove(param(url, 'field')), id: session.id ?? null })
    case '/delete':
      return out({ ok: await session.delete(), id: session.id ?? null })
    case '/regenerate':
      return out({ id: (await session.regenerate()) ?? null })
    case '/prepare': {
      const prepared = session.prepareRegenerate()
      const ok = url.searchParams.has('field')
        ? await session.update(param(url, 'field'), valueParam(url), ttlParam(url))
        : null
      return out({ prepared, ok, id: session.id })
    }
    case '/expire':
      return out({ ok: await session.expire(Number(param(url, 'seconds'))), id: session.id ?? null })
    case '/id':
      return out({ id: session.id ?? null })
    case '/untouched':
      return out('untouched')
    case '/fire-and-forget':
      // Deliberately not awaited: the adapter must still send the cookie this write creates.
      session.update(param(url, 'field'), valueParam(url)).catch(() => undefined)
      return out('started')
    case '/login':
      await session.update('user', param(url, 'name'))
      await session.regenerate()
      return { redirect: '/get?field=user' }
    case '/then-unreachable':
      // A call that creates or moves the session succeeds, then one fails like an unreachable store.
      if (url.searchParams.has('regenerate')) await session.regenerate()
      else await session.update(param(url, 'field'), valueParam(url))
      await session.get(UNREACHABLE_FIELD)
      return out('unreachable')
    case '/caught-unreachable':
      // The same, but the handler catches the store's error and answers its own 5xx.
      await session.update(param(url, 'field'), valueParam(url))
      return session.get(UNREACHABLE_FIELD).then(
        () => out('unreachable'),
        () => ({ json: 'caught', status: Number(param(url, 'status')) }),
      )
    case '/prepare-own-cookies':
      // No store call in the handler: the prepared move runs at commit, where a failing store fails it.
      session.prepareRegenerate()
      return { json: 'prepared', setCookies: ['theme=dark; Path=/'] }
    case '/own-cookies':
      if (url.searchParams.has('touch')) await session.update('theme', 'dark')
      return { json: 'cookies', setCookies: ['theme=dark; Path=/', 'lang=en; Path=/; HttpOnly'] }
    default:
      return out({ error: 'no such route' })
  }
}
