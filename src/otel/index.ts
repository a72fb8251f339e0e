/**
 * OpenTelemetry for ruts: spans and metrics from the `ruts:store` and `ruts:session` diagnostics
 * channels. Needs `@opentelemetry/api` (an optional peer dependency); see docs/observability.md.
 *
 * @module ruts/otel
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import {
  type Attributes,
  type Context,
  context,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { SESSION_CHANNEL, type SessionEvent, STORE_CHANNEL, type StoreCallContext } from '../core/diagnostics.js'
import { type Check, checkOptions } from '../core/validate.js'

/** Options of {@link instrumentSessions}. */
export interface InstrumentSessionsOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider
}

/** Store calls take micro- to milliseconds; the default buckets start at 5 ms. */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** How a lifecycle event ends a session (`ruts.reason` of `ruts.sessions.ended`). */
const ENDINGS = new Set(['deleted', 'revoked', 'expired'])

interface OpenCall {
  readonly span: Span
  readonly started: number
  readonly attributes: Attributes
}

/** A provider: an object with the one method the instrumentation calls on it. */
const provider = (method: 'getTracer' | 'getMeter'): Check =>
  ((value) =>
    typeof (value as Record<string, unknown> | null)?.[method] === 'function'
      ? undefined
      : `must be an OpenTelemetry provider (with ${method})`) as Check

const INSTRUMENT_OPTIONS = {
  tracerProvider: provider('getTracer'),
  meterProvider: provider('getMeter'),
} satisfies Record<keyof InstrumentSessionsOptions, Check>

/**
 * Subscribe OpenTelemetry to ruts's diagnostics channels: a span `ruts <operation>` per store call
 * (a child of the active span; a layered store's tier calls are children of its span) and the
 * metrics `ruts.store.operation.duration`, `ruts.store.errors`, `ruts.sessions.created`,
 * `ruts.sessions.ended`, `ruts.sessions.regenerated` and `ruts.cookies.invalid`. Nothing about a
 * session's identity or contents is recorded: attributes are the store's name, the operation, the
 * tier, the outcome and an error's `code`.
 *
 * @param options - tracer and meter providers (the global ones by default)
 * @returns a function that unsubscribes again
 *
 * @example
 * ```ts
 * import { instrumentSessions } from 'ruts/otel'
 *
 * // after the OpenTelemetry SDK has registered its providers
 * const stop = instrumentSessions()
 * // on shutdown
 * stop()
 * ```
 */
export function instrumentSessions(options: InstrumentSessionsOptions = {}): () => void {
  checkOptions('instrumentSessions', options, INSTRUMENT_OPTIONS)
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('ruts')
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('ruts')
  const duration = meter.createHistogram('ruts.store.operation.duration', {
    unit: 's',
    description: 'Duration of session store operations',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  })
  const storeErrors = meter.createCounter('ruts.store.errors', {
    description: 'Session operations that failed because the store failed (the request failed closed)',
  })
  const created = meter.createCounter('ruts.sessions.created', { description: 'Sessions created' })
  const ended = meter.createCounter('ruts.sessions.ended', { description: 'Sessions ended, by ruts.reason' })
  const regenerated = meter.createCounter('ruts.sessions.regenerated', { description: 'Sessions moved to a new id' })
  const invalid = meter.createCounter('ruts.cookies.invalid', {
    description: 'Presented session cookies that were malformed or failed their signature check',
  })

  const storeCalls = tracingChannel<Context, StoreCallContext>(STORE_CHANNEL)
  // The ruts span each store call runs in, so that a layered store's tier calls become its children.
  // (OpenTelemetry's own context cannot be entered from a channel; this store can.)
  const parents = new AsyncLocalStorage<Context>()
  const open = new WeakMap<StoreCallContext, OpenCall>()

  storeCalls.start.bindStore(parents, (message) => {
    const parent = parents.getStore() ?? context.active()
    const attributes: Attributes = { 'ruts.store': message.store, 'ruts.operation': message.operation }
    if (message.tier !== undefined) attributes['ruts.tier'] = message.tier
    const span = tracer.startSpan(`ruts ${message.operation}`, { kind: SpanKind.INTERNAL, attributes }, parent)
    open.set(message, { span, started: performance.now(), attributes })
    return trace.setSpan(parent, span)
  })
  const onError = (raw: unknown): void => {
    const message = raw as StoreCallContext
    const call = open.get(message)
    if (call === undefined) return
    const code = errorCode(message.error)
    call.span.setAttribute('error.type', code)
    call.span.setStatus({ code: SpanStatusCode.ERROR, message: code })
  }
  const onSettled = (raw: unknown): void => {
    const message = raw as StoreCallContext
    const call = open.get(message)
    if (call === undefined) return
    open.delete(message)
    call.span.end()
    const outcome = message.error === undefined ? 'ok' : 'error'
    duration.record((performance.now() - call.started) / 1000, { ...call.attributes, 'ruts.outcome': outcome })
  }
  storeCalls.error.subscribe(onError)
  storeCalls.asyncEnd.subscribe(onSettled)

  const onSessionEvent = (raw: unknown): void => {
    const message = raw as SessionEvent
    const store = { 'ruts.store': message.store }
    if (message.event === 'created') created.add(1, store)
    else if (message.event === 'regenerated') regenerated.add(1, store)
    else if (message.event === 'invalid') invalid.add(1, store)
    else if (ENDINGS.has(message.event)) ended.add(1, { ...store, 'ruts.reason': message.event })
    else if (message.event === 'store-error') {
      storeErrors.add(1, { ...store, 'ruts.operation': message.operation ?? '', 'error.type': message.code ?? '' })
    }
  }
  subscribe(SESSION_CHANNEL, onSessionEvent)

  return () => {
    storeCalls.error.unsubscribe(onError)
    storeCalls.asyncEnd.unsubscribe(onSettled)
    storeCalls.start.unbindStore(parents)
    unsubscribe(SESSION_CHANNEL, onSessionEvent)
  }
}

/** A `SessionError`'s `code` (or any string `code`), else the error's class name: never its message. */
function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') return code
    if (error instanceof Error) return error.name
  }
  return '_OTHER'
}
