import { ROOT_CONTEXT, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { installContextManager } from './context-manager.js';
import { extractTrace, formatTraceparent, injectTrace, parseTraceparent, withSpan } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('traceparent', () => {
  it('parses a valid value', () => {
    expect(parseTraceparent(TRACEPARENT)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
  });

  it('formats what it parses', () => {
    const sc = parseTraceparent(TRACEPARENT);
    expect(sc && formatTraceparent(sc)).toBe(TRACEPARENT);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not-a-traceparent'],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['long span id', `00-${TRACE_ID}-${SPAN_ID}0-01`],
    ['uppercase hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['non-hex version', `0g-${TRACE_ID}-${SPAN_ID}-01`],
    ['three-char flags', `00-${TRACE_ID}-${SPAN_ID}-001`],
    ['version 00 with extra field', `${TRACEPARENT}-extra`],
    ['missing flags', `00-${TRACE_ID}-${SPAN_ID}`],
  ])('rejects %s', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts a future version with extra fields, reading the known ones', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-00-future`)).toMatchObject({ traceId: TRACE_ID, traceFlags: 0 });
  });
});

describe('inject/extract', () => {
  it('round-trips traceparent and tracestate', () => {
    const ctx = extractTrace({ traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
    expect(injectTrace(ctx)).toEqual({ traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
  });

  it('omits an absent tracestate', () => {
    expect(injectTrace(extractTrace({ traceparent: TRACEPARENT }))).toEqual({ traceparent: TRACEPARENT });
  });

  it('extracts the root context from nothing or from an invalid value', () => {
    expect(extractTrace(undefined)).toBe(ROOT_CONTEXT);
    expect(extractTrace({ traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` })).toBe(ROOT_CONTEXT);
  });

  it('injects nothing from a context without a span', () => {
    expect(injectTrace(ROOT_CONTEXT)).toBeUndefined();
  });

  it('keeps the trace id through a span when no SDK is registered', async () => {
    const inner = await withSpan('op', {}, extractTrace({ traceparent: TRACEPARENT }), async (_span, ctx) => injectTrace(ctx));
    expect(inner?.traceparent).toContain(TRACE_ID);
  });
});

describe('withSpan', () => {
  it('returns what fn returns', async () => {
    await expect(withSpan('op', { a: 1 }, ROOT_CONTEXT, async () => 42)).resolves.toBe(42);
  });

  it('records a throw on the span and rethrows it', async () => {
    let seen: Span | undefined;
    const failure = new Error('boom');
    const recorded: unknown[] = [];
    const run = withSpan('op', {}, extractTrace({ traceparent: TRACEPARENT }), async (span) => {
      seen = span;
      span.recordException = (e) => void recorded.push(e);
      span.setStatus = (s) => (recorded.push(s), span);
      throw failure;
    });
    await expect(run).rejects.toBe(failure);
    expect(seen).toBeDefined();
    expect(recorded).toEqual([failure, { code: SpanStatusCode.ERROR, message: 'boom' }]);
  });
});

describe('installContextManager', () => {
  afterAll(() => context.disable());

  it('makes the active context follow awaits', async () => {
    expect(installContextManager()).toBe(true);
    const parent = extractTrace({ traceparent: TRACEPARENT });
    const seen = await context.with(parent, async () => {
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      return injectTrace();
    });
    expect(seen).toEqual({ traceparent: TRACEPARENT });
    expect(injectTrace()).toBeUndefined();
  });

  it('leaves an already registered manager in place', () => {
    expect(installContextManager()).toBe(false);
  });

  it('makes the span active inside withSpan', async () => {
    const traceId = await withSpan('op', {}, extractTrace({ traceparent: TRACEPARENT }), async () => {
      await Promise.resolve();
      return trace.getSpanContext(context.active())?.traceId;
    });
    expect(traceId).toBe(TRACE_ID);
  });
});
