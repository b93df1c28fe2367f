/**
 * Exporting spans: the OpenTelemetry SDK with the OTLP/HTTP (JSON) exporter,
 * set up once per service process by startService. On only when the
 * standard variable names an endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * used as it is, or `OTEL_EXPORTER_OTLP_ENDPOINT`, to which `/v1/traces` is
 * appended, as the OTLP specification says); otherwise no provider is
 * registered and every span stays the API's no-op (no exporter, no cost).
 * The rest of the exporter's standard settings (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `_TIMEOUT`, `_COMPRESSION`, certificates) are the SDK's own, read from the
 * process environment.
 *
 * Sampling is parent-based (the SDK default): a trace the API started
 * sampled is recorded by every service it reaches, so one command's spans
 * are one whole trace, never a part of it.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { BaseConfig } from './config.js';

/** Where spans go: the traces URL, or undefined when tracing is off. */
export function otlpTracesUrl(config: Pick<BaseConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

export interface TraceExport {
  /** The OTLP endpoint spans are sent to. */
  url: string;
  /** Send what is buffered now (tests; before a planned exit). */
  flush(): Promise<void>;
  /** Flush, stop exporting and unregister the provider (idempotent). */
  shutdown(): Promise<void>;
}

/**
 * Register a tracer provider exporting to `url` for the service `name`.
 * Returns undefined when another provider is registered already (a second
 * service in one process, e.g. a test): spans then go where that one sends them.
 */
export function startTraceExport(name: string, url: string): TraceExport | undefined {
  const exporter = new OTLPTraceExporter({ url });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: name }),
    // Batched off the request path; a short delay so a trace is complete at the receiver within a second or so.
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500 })],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown();
    return undefined;
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopping ??= provider.shutdown().finally(() => {
        trace.disable();
      })),
  };
}
