import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { startOtlpReceiver, waitFor, type OtlpReceiver } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, baseConfigSchema, loadConfig } from './config.js';
import { injectTrace, withSpan } from './tracing.js';
import { otlpTracesUrl, startTraceExport } from './trace-export.js';

describe('where spans go (OTEL_EXPORTER_OTLP_*)', () => {
  const url = (env: Record<string, string>): string | undefined => otlpTracesUrl(loadConfig(baseConfigSchema, env));

  it('off when neither variable is set (or set empty)', () => {
    expect(url({})).toBeUndefined();
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
  });

  it('the endpoint gets /v1/traces appended; the traces endpoint is used as it is and wins', () => {
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/traces');
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/custom' })).toBe('https://b/custom');
  });

  it('a value that is not an http(s) URL is a configuration error naming the variable', () => {
    for (const bad of ['collector:4318', 'grpc://collector:4317']) {
      expect(() => url({ OTEL_EXPORTER_OTLP_ENDPOINT: bad })).toThrow(ConfigError);
      expect(() => url({ OTEL_EXPORTER_OTLP_ENDPOINT: bad })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http/);
    }
  });
});

describe('exporting spans over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('spans reach the receiver with the service name, parent links kept; after shutdown the API is a no-op again', async () => {
    const exporting = startTraceExport('svc-a', `${receiver.endpoint}/v1/traces`)!;
    expect(exporting).toBeDefined();
    // A second provider in the same process is refused (its spans go to the first).
    expect(startTraceExport('svc-b', `${receiver.endpoint}/v1/traces`)).toBeUndefined();
    await withSpan('outer', { a: 1 }, ROOT_CONTEXT, (_, ctx) => withSpan('inner', {}, ctx, async () => undefined));
    await exporting.shutdown();
    await waitFor(() => receiver.spans.length === 2, { message: 'two spans received' });
    const [inner, outer] = ['inner', 'outer'].map((n) => receiver.spans.find((s) => s.name === n)!);
    expect(outer).toMatchObject({ service: 'svc-a', parentSpanId: undefined, attributes: { a: 1 } });
    expect(inner).toMatchObject({ service: 'svc-a', traceId: outer!.traceId, parentSpanId: outer!.spanId });
    expect(receiver.rejected).toEqual([]);
    // Unregistered: a new span is the API's non-recording one (no valid context to carry on).
    const span = trace.getTracer('strata').startSpan('after');
    expect(injectTrace(trace.setSpan(ROOT_CONTEXT, span))).toBeUndefined();
  });
});
