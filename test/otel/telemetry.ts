import { type Attributes, trace } from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { afterAll } from 'vitest'
import { instrumentSessions } from '../../src/otel/index.js'

/** A metric reader that exports nothing: the test collects on demand. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One collected data point: the metric's name, its attributes and its value (a sum or a count). */
export interface Point {
  name: string
  attributes: Attributes
  value: number
}

/** The real OpenTelemetry SDK, in memory, with ruts instrumented. */
export interface Telemetry {
  readonly provider: NodeTracerProvider
  /** Every span ended so far. */
  spans(): ReadableSpan[]
  /** Every metric data point so far (histograms report their count). */
  points(): Promise<Point[]>
  reset(): void
}

/**
 * Register the SDK's Node tracer provider (with its AsyncLocalStorage context manager) globally, a
 * meter provider with an in-memory reader, and `instrumentSessions` on both; all undone after the
 * test file.
 *
 * @returns the exported spans and metrics
 */
export function telemetry(): Telemetry {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  provider.register()
  const reader = new CollectingReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const stop = instrumentSessions({ tracerProvider: provider, meterProvider })
  afterAll(async () => {
    stop()
    await Promise.all([provider.shutdown(), meterProvider.shutdown()])
    trace.disable()
  })
  return {
    provider,
    spans: () => exporter.getFinishedSpans(),
    async points() {
      const { resourceMetrics } = await reader.collect()
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          metric.dataPoints.map((point) => ({
            name: metric.descriptor.name,
            attributes: point.attributes,
            value: typeof point.value === 'number' ? point.value : (point.value as { count: number }).count,
          })),
        ),
      )
    },
    reset: () => exporter.reset(),
  }
}

/**
 * The spans named `ruts …` whose parent is `parent`.
 *
 * @param spans - exported spans
 * @param parent - the parent span
 * @returns its ruts children
 */
export function rutsChildren(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  const id = parent.spanContext().spanId
  return spans.filter((span) => span.name.startsWith('ruts ') && span.parentSpanContext?.spanId === id)
}
