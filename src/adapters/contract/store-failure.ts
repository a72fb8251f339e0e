/**
 * The default answer to a store failure (`SessionStoreError`) for adapters that build the response
 * themselves: fail closed, with nothing a cache or a browser could keep.
 *
 * @returns a plain-text `503 Service Unavailable` with `Cache-Control: no-store` and no cookie
 *
 * @example
 * ```ts
 * if (error instanceof SessionStoreError) return serviceUnavailable()
 * ```
 */
export function serviceUnavailable(): Response {
  return new Response('Service Unavailable', {
    status: 503,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

/**
 * @internal The headers of a response that answers a store failure, without any cookie set before the
 * store failed and with `Cache-Control: no-store`. Not exported from `ruts/adapter`.
 *
 * @param headers - the response's headers (not changed)
 * @returns a copy
 */
export function withoutCookies(headers: Headers): Headers {
  const copy = new Headers(headers)
  copy.delete('set-cookie')
  copy.set('cache-control', 'no-store')
  return copy
}
