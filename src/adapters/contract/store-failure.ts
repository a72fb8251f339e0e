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
