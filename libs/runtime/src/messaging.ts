/**
 * The NATS request/reply convention for commands and queries: envelope
 * types, their validation, and the JSON codec. The server side is serve.ts,
 * the client side requester.ts.
 */
import { z } from 'zod';
import { ValidationError, type SerializedError } from '@strata/errors';
import type { TraceContext } from './tracing.js';

/** The longest reason a request may carry (it is stored on every event the request causes). */
export const MAX_REASON_LENGTH = 512;

export interface RequestMeta {
  /** Authenticated principal (token subject / service name). */
  actor: string;
  /** The caller's tenant. */
  tenant: string;
  /** Admin principals may act on every tenant. */
  admin: boolean;
  /** Unique per client request; services derive event ids from it so a retried request is idempotent. */
  requestId: string;
  /** Groups everything caused by one external request. */
  correlationId: string;
  /** ISO instant the request entered the system (stamped by the API); domain code uses this as "now". */
  at: string;
  /** Read-your-writes: serve a query only after the local projection applied this stream sequence. */
  minSeq?: number;
  /**
   * How long the service may wait for its state to reach `minSeq` before
   * answering UNAVAILABLE (the caller's remaining deadline, so a position a
   * client sent can never hold a request longer than the client waits);
   * absent: the service's own bound.
   */
  minSeqWaitMs?: number;
  /** W3C traceparent/tracestate. */
  trace?: TraceContext;
  /** Why, in the caller's words (the API's `x-reason`); stored on the events the request causes. */
  reason?: string;
}

export interface RequestEnvelope<T = unknown> {
  meta: RequestMeta;
  body: T;
}

export type ReplyEnvelope<T = unknown> = { ok: true; result: T; seq?: number } | { ok: false; error: SerializedError };

// A malformed traceparent is not checked here: it must not fail the request, extractTrace just ignores it.
const traceContextSchema = z.object({ traceparent: z.string(), tracestate: z.string().optional() });

export const requestMetaSchema = z.object({
  actor: z.string().min(1),
  tenant: z.string().min(1),
  admin: z.boolean(),
  requestId: z.string().min(1),
  correlationId: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  minSeq: z.number().int().nonnegative().optional(),
  minSeqWaitMs: z.number().int().nonnegative().max(600_000).optional(),
  trace: traceContextSchema.optional(),
  reason: z.string().min(1).max(MAX_REASON_LENGTH).optional(),
}) satisfies z.ZodType<RequestMeta>;

export const requestEnvelopeSchema = z.object({ meta: requestMetaSchema, body: z.unknown() });

const replyEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown(), seq: z.number().optional() }),
  z.object({
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  }),
]);

/** Parse a reply; undefined when it is not a ReplyEnvelope. */
export function parseReply(data: unknown): ReplyEnvelope | undefined {
  const parsed = replyEnvelopeSchema.safeParse(data);
  return parsed.success ? (parsed.data as ReplyEnvelope) : undefined;
}

/**
 * A zod failure as a ValidationError naming each offending field, e.g.
 * `invalid request: cidr: Invalid IPv4 range`. `details.field` is the first
 * field's dotted path, the form @strata/errors documents.
 */
export function toValidationError(error: z.ZodError, what = 'request'): ValidationError {
  const violations = error.issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    problem: issue.message,
  }));
  const text = violations.map((v) => (v.field ? `${v.field}: ${v.problem}` : v.problem)).join('; ');
  const first = violations[0]?.field;
  return new ValidationError(`invalid ${what}: ${text}`, first ? { field: first, violations } : { violations });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Throws SyntaxError on bad JSON; callers decide what that means on their side. */
export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}
