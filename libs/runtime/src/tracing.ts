import {
  ROOT_CONTEXT,
  SpanStatusCode,
  context,
  createTraceState,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

/**
 * W3C trace context as carried in every NATS request and every event.
 * Structurally identical to @strata/eventlog's TraceContext; defined here so
 * the runtime does not depend on the event log.
 */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

const VERSION = /^[0-9a-f]{2}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const FLAGS = /^[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Parse a W3C traceparent (`00-<32 hex>-<16 hex>-<2 hex>`). Returns
 * undefined for anything invalid: a bad header must never fail a request,
 * it just starts a new trace.
 */
export function parseTraceparent(traceparent: string): SpanContext | undefined {
  const parts = traceparent.trim().split('-');
  const [version, traceId, spanId, flags] = parts;
  if (version === undefined || traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  if (!VERSION.test(version) || version === 'ff') return undefined;
  // Version 00 has exactly four fields; later versions may append more, which we ignore (spec: parse what we know).
  if (version === '00' && parts.length !== 4) return undefined;
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE_ID) return undefined;
  if (!SPAN_ID.test(spanId) || spanId === ZERO_SPAN_ID) return undefined;
  if (!FLAGS.test(flags)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The trace context of `ctx` (default: the active one) in wire form; undefined when there is no valid span. */
export function injectTrace(ctx: Context = context.active()): TraceContext | undefined {
  const sc = trace.getSpanContext(ctx);
  if (sc === undefined) return undefined;
  const traceparent = formatTraceparent(sc);
  // Same rules as for incoming values, so we never emit what we would reject (e.g. the API's all-zero invalid span).
  if (parseTraceparent(traceparent) === undefined) return undefined;
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** An OTel context whose parent is the remote span in `tc`; the root context when `tc` is absent or invalid. */
export function extractTrace(tc?: TraceContext): Context {
  const sc = tc === undefined ? undefined : parseTraceparent(tc.traceparent);
  if (sc === undefined) return ROOT_CONTEXT;
  const withState = tc?.tracestate ? { ...sc, traceState: createTraceState(tc.tracestate) } : sc;
  return trace.setSpanContext(ROOT_CONTEXT, withState);
}

/** The trace id of a wire trace context, for log correlation. */
export function traceIdOf(tc?: TraceContext): string | undefined {
  return tc === undefined ? undefined : parseTraceparent(tc.traceparent)?.traceId;
}

/**
 * Run `fn` in a new span under `parentCtx`, active for its duration. `fn`
 * also gets the span's context explicitly, for code paths where no context
 * manager is installed (then `context.active()` is always the root). A throw
 * is recorded on the span and rethrown.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  parentCtx: Context,
  fn: (span: Span, ctx: Context) => Promise<T>,
): Promise<T> {
  const span = trace.getTracer('strata').startSpan(name, { attributes }, parentCtx);
  const ctx = trace.setSpan(parentCtx, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** withSpan for synchronous work (e.g. folding one event into a model). */
export function withSpanSync<T>(name: string, attributes: Attributes, parentCtx: Context, fn: (span: Span, ctx: Context) => T): T {
  const span = trace.getTracer('strata').startSpan(name, { attributes }, parentCtx);
  const ctx = trace.setSpan(parentCtx, span);
  try {
    return context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

function recordFailure(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
