/**
 * Stable error codes. Callers branch on `code`, never on the message text.
 */
export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_VALUE'
  | 'ERR_SESSION_ARGUMENT'
  | 'ERR_SESSION_OPTION'
  | 'ERR_SESSION_HEADERS_SENT'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_STORE_TIMEOUT'
  | 'ERR_SESSION_COLLISION'
  | 'ERR_SESSION_UNSUPPORTED'

/**
 * Base class of every error ruts throws.
 *
 * Messages never contain a raw session id, a store key or a secret.
 *
 * @example
 * ```ts
 * try { await session.update('user', value) }
 * catch (err) { if (err instanceof SessionError && err.code === 'ERR_SESSION_VALUE') … }
 * ```
 */
export class SessionError extends Error {
  /** Stable machine-readable code. */
  readonly code: SessionErrorCode
  /** HTTP status a framework error handler should answer with. */
  readonly status: number
  /**
   * With `ERR_SESSION_VALUE` from a field schema: what the schema found wrong, as Standard Schema
   * issues (`message`, `path`; vendor extras such as the input are dropped). On a read the messages are
   * a fixed text, since a validator may quote the stored value; on a write they are the validator's
   * and may quote the value passed. Not enumerable, so loggers that serialise an error's own
   * properties leave it out. `undefined` otherwise.
   */
  declare readonly issues:
    | readonly { readonly message: string; readonly path?: readonly unknown[] | undefined }[]
    | undefined

  /**
   * @param code - the stable code
   * @param message - a human-readable description (no secrets, no ids)
   * @param options - `cause`, the HTTP `status` (default 500) and a schema's `issues`
   */
  constructor(
    code: SessionErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; issues?: SessionError['issues'] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SessionError'
    this.code = code
    this.status = options.status ?? 500
    Object.defineProperty(this, 'issues', { value: options.issues, enumerable: false })
  }

  /** Alias of `status`, read by Express, Koa and Fastify error handlers. */
  get statusCode(): number {
    return this.status
  }
}

/**
 * Invalid layer or store options, thrown at construction time, never per request.
 */
export class SessionConfigError extends SessionError {
  /** The offending option's path (`'cookie.maxAge'`, `'resave'`), when one option is to blame. */
  readonly option: string | undefined

  /**
   * @param message - what is wrong with the configuration
   * @param options - `option`: the offending option's path
   */
  constructor(message: string, options: { option?: string } = {}) {
    super('ERR_SESSION_CONFIG', message)
    this.name = 'SessionConfigError'
    this.option = options.option
  }
}

/**
 * The store could not answer (down, timed out, failed). The backend's error is the `cause`.
 * Frameworks answer it with status 503: a request that carries a session cookie fails closed
 * instead of silently continuing as anonymous.
 */
export class SessionStoreError extends SessionError {
  /**
   * Headers for the error's response, by the http-errors convention that Express' and Koa's default
   * error handlers and Fastify's follow: a store failure's 503 is never stored by a cache.
   */
  readonly headers: { readonly 'cache-control': 'no-store' } = { 'cache-control': 'no-store' }

  /**
   * @param message - what failed, e.g. `"redis: get failed"`
   * @param options - the backend error as `cause`; `timeout` when the operation timed out
   */
  constructor(message: string, options: { cause?: unknown; timeout?: boolean } = {}) {
    super(options.timeout ? 'ERR_SESSION_STORE_TIMEOUT' : 'ERR_SESSION_STORE', message, {
      // Every store's error wrapping ends here, so no backend error escapes unredacted.
      cause: redactBackendError(options.cause),
      status: 503,
    })
    this.name = 'SessionStoreError'
  }
}

/**
 * @param what - the call that came too late
 * @returns the `ERR_SESSION_HEADERS_SENT` error
 */
export function headersSent(what: string): SessionError {
  return new SessionError(
    'ERR_SESSION_HEADERS_SENT',
    `${what} after the response headers were sent cannot deliver its cookie; await session calls before responding`,
  )
}

/**
 * What is left of a backend error once redacted: its class name (as `name`), message, `code` and
 * stack, and nothing else. Client libraries hang the failed command on their errors (ioredis
 * `ReplyError.command.args`, pg's `detail` and `where` with the failing row or parameters), and
 * those hold session values; a framework's default error handler prints whatever it can reach.
 */
export class RedactedBackendError extends Error {
  /** The backend's own code (`NOREPLICAS`, `ECONNREFUSED`, `23514`, …), when it had one. */
  readonly code: string | number | undefined

  /**
   * @param name - the original error's class name
   * @param message - the original message
   * @param code - the original `code`, when it was a string or number
   * @param cause - the original `cause`, already redacted
   */
  constructor(name: string, message: string, code: string | number | undefined, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = name
    this.code = code
  }
}

/** Causes followed below a backend error before the rest is dropped. */
const MAX_CAUSE_DEPTH = 3

/**
 * Replace a backend error by a {@link RedactedBackendError}. Errors of this library are
 * kept as they are: their messages and causes are safe by construction.
 *
 * @param error - whatever a backend call threw
 * @param depth - causes already followed
 * @returns `undefined` for `undefined`, the error itself for a `SessionError`, else a redacted copy
 */
export function redactBackendError(error: unknown, depth = 0): unknown {
  if (error === undefined || error instanceof SessionError || error instanceof RedactedBackendError) return error
  if (!(error instanceof Error)) return new RedactedBackendError('NonError', `a ${typeof error} was thrown`, undefined)
  const { code, cause } = error as Error & { code?: unknown }
  const redacted = new RedactedBackendError(
    error.constructor?.name || error.name,
    String(error.message),
    typeof code === 'string' || typeof code === 'number' ? code : undefined,
    depth < MAX_CAUSE_DEPTH ? redactBackendError(cause, depth + 1) : undefined,
  )
  if (typeof error.stack === 'string') redacted.stack = error.stack
  return redacted
}
