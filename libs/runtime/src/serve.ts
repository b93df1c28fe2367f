import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Context } from '@opentelemetry/api';
import type { z } from 'zod';
import { ErrorCode, StrataError, ValidationError, toStrataError } from '@strata/errors';
import type { Logger } from './logger.js';
import { withCorrelation } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import {
  decodeJson,
  encodeJson,
  requestEnvelopeSchema,
  toValidationError,
  type ReplyEnvelope,
  type RequestMeta,
} from './messaging.js';
import { RequestRefused, type CommandVerifier } from './command-auth.js';
import { extractTrace, injectTrace, traceIdOf, withSpan, type TraceContext } from './tracing.js';

export interface HandlerContext {
  /** The operation, i.e. the subject after the prefix (e.g. `port.create`). */
  op: string;
  subject: string;
  /** Bound to the request's correlation id, request id and trace id. */
  logger: Logger;
  /** The handler span's trace context in wire form: stamp it on the events the request produces. */
  trace: TraceContext | undefined;
  /** The handler span's OTel context, for explicit propagation. */
  otel: Context;
}

export interface HandlerResult {
  result: unknown;
  /** Stream sequence of the last event written, so the caller can ask for read-your-writes (meta.minSeq). */
  seq?: number;
}

export interface Handler<S extends z.ZodType = z.ZodType> {
  schema: S;
  handle(body: z.output<S>, meta: RequestMeta, ctx: HandlerContext): Promise<HandlerResult>;
}

/** Ties a handler's body type to its schema, so `handle` needs no annotations. */
export function handler<S extends z.ZodType>(schema: S, handle: Handler<S>['handle']): Handler<S> {
  return { schema, handle };
}

export interface ServeOptions {
  /** e.g. `strata.cmd.ipam`; the server answers `<subjectPrefix>.<op>`. */
  subjectPrefix: string;
  /** Queue group: instances with the same group share the load. */
  queue: string;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** Every request must carry a valid signature of one of its keys (command-auth.ts); others are refused unread. */
  verifier: CommandVerifier;
  handlers: Record<string, Handler>;
}

export interface ServeHandle {
  /** Stop taking requests and wait for in-flight ones to reply. */
  drain(): Promise<void>;
  /** Stop taking requests now; in-flight ones still reply if the connection is open. */
  stop(): void;
}

/** The op label for subjects nobody handles, so garbage subjects cannot explode metric cardinality. */
const UNKNOWN_OP = '_unknown';

/**
 * Answer `<subjectPrefix>.>` with `handlers`. Resolves once the server knows
 * about the subscription, so a request sent afterwards finds a responder.
 */
export async function serve(nc: NatsConnection, options: ServeOptions): Promise<ServeHandle> {
  const handlers = new Map(Object.entries(options.handlers));
  const requests = options.metrics?.counter('strata_rpc_requests_total', 'NATS requests served', ['op', 'code']);
  const duration = options.metrics?.histogram('strata_rpc_duration_seconds', 'NATS request handling time', ['op']);
  const refused = options.metrics?.counter('strata_rpc_refused_total', 'NATS requests refused unread: not signed by a known key, or expired', ['reason']);
  const inFlight = new Set<Promise<void>>();

  const sub: Subscription = nc.subscribe(`${options.subjectPrefix}.>`, {
    queue: options.queue,
    // A callback rather than an iterator loop: each request runs on its own, none waits for a slow one.
    callback: (err, msg) => {
      if (err) {
        options.logger.error({ err }, 'subscription error');
        return;
      }
      const done = dispatch(msg)
        .catch((e: unknown) => options.logger.error({ err: e, subject: msg.subject }, 'could not reply'))
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    },
  });
  await nc.flush();

  async function dispatch(msg: Msg): Promise<void> {
    const op = msg.subject.slice(options.subjectPrefix.length + 1);
    const h = handlers.get(op);
    const label = h ? op : UNKNOWN_OP;
    const stopTimer = duration?.startTimer({ op: label });
    const reply = await answer(msg, op, h);
    stopTimer?.();
    requests?.inc({ op: label, code: reply.ok ? 'OK' : reply.error.code });
    if (!msg.reply) {
      options.logger.warn({ subject: msg.subject }, 'request without reply subject; answer dropped');
      return;
    }
    msg.respond(encodeReply(reply, options.logger));
  }

  async function answer(msg: Msg, op: string, h: Handler | undefined): Promise<ReplyEnvelope> {
    let meta: RequestMeta | undefined;
    try {
      // Before anything else: an unauthenticated request is not even parsed.
      options.verifier.verify(msg.subject, msg.headers, msg.data);
      if (!h) throw new ValidationError(`unknown operation ${op}`, { op });
      const envelope = parseEnvelope(msg.data);
      const m = (meta = envelope.meta);
      const body = h.schema.safeParse(envelope.body);
      if (!body.success) throw toValidationError(body.error);
      const parent = extractTrace(m.trace);
      const out = await withSpan(`${options.subjectPrefix}.${op}`, attributes(op, m), parent, (_, otel) => {
        const ctx = { op, subject: msg.subject, logger: requestLogger(m, op), trace: injectTrace(otel), otel };
        return h.handle(body.data, m, ctx);
      });
      const result = out.result ?? null;
      return out.seq === undefined ? { ok: true, result } : { ok: true, result, seq: out.seq };
    } catch (err) {
      if (err instanceof RequestRefused) {
        refused?.inc({ reason: err.reason });
        options.logger.warn({ subject: msg.subject, reason: err.reason }, 'request refused: not authenticated');
      }
      const error = toStrataError(err);
      logFailure(err, error, op, meta);
      return { ok: false, error: error.toJSON() };
    }
  }

  function requestLogger(meta: RequestMeta, op: string): Logger {
    return withCorrelation(options.logger, {
      correlationId: meta.correlationId,
      requestId: meta.requestId,
      traceId: traceIdOf(meta.trace),
      op,
    });
  }

  function logFailure(err: unknown, error: StrataError, op: string, meta: RequestMeta | undefined): void {
    const log = meta ? requestLogger(meta, op) : options.logger.child({ op });
    // Only failures the caller cannot fix are ours to look at; the stack stays in the log, never in the reply.
    if (error.code === ErrorCode.Internal) log.error({ err }, 'request failed');
    else log.debug({ code: error.code, message: error.message }, 'request rejected');
  }

  return {
    async drain() {
      if (!sub.isClosed()) await sub.drain();
      await Promise.all(inFlight);
    },
    stop() {
      if (!sub.isClosed()) sub.unsubscribe();
    },
  };
}

function parseEnvelope(data: Uint8Array): { meta: RequestMeta; body: unknown } {
  let raw: unknown;
  try {
    raw = decodeJson(data);
  } catch {
    throw new ValidationError('invalid request: payload is not JSON');
  }
  const parsed = requestEnvelopeSchema.safeParse(raw);
  if (!parsed.success) throw toValidationError(parsed.error, 'request envelope');
  return parsed.data;
}

function attributes(op: string, meta: RequestMeta): Record<string, string> {
  return {
    'rpc.system': 'nats',
    'rpc.method': op,
    'strata.tenant': meta.tenant,
    'strata.actor': meta.actor,
    'strata.request_id': meta.requestId,
    'strata.correlation_id': meta.correlationId,
  };
}

/** A result that does not serialize (cycles, BigInt) is our bug: reply INTERNAL rather than not at all. */
function encodeReply(reply: ReplyEnvelope, logger: Logger): Uint8Array {
  try {
    return encodeJson(reply);
  } catch (err) {
    logger.error({ err }, 'reply is not serializable');
    return encodeJson({ ok: false, error: new StrataError(ErrorCode.Internal, 'internal error').toJSON() });
  }
}
