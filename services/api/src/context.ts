/** Builds the RequestMeta every NATS request carries, from the gRPC call and its principal. */
import { randomUUID } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { ValidationError } from '@strata/errors';
import { MAX_REASON_LENGTH, type RequestMeta, type TraceContext } from '@strata/runtime';
import type { Principal } from './auth.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Correlation ids end up in every event of the request: keep them short and printable.
const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;
// A reason is stored on every event of the request: printable ASCII (gRPC's text metadata), spaces allowed, bounded.
const REASON = new RegExp(`^[\\x20-\\x7e]{1,${MAX_REASON_LENGTH}}$`);

function single(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  if (values.length === 0) return undefined;
  const [v] = values;
  if (values.length > 1 || typeof v !== 'string') throw new ValidationError(`metadata ${key} must be given once, as text`, { field: key });
  return v;
}

/** The W3C trace context the client sent, if any; a malformed one is dropped later by the tracing helpers. */
export function incomingTrace(metadata: Metadata): TraceContext | undefined {
  const traceparent = single(metadata, 'traceparent');
  if (traceparent === undefined) return undefined;
  const tracestate = single(metadata, 'tracestate');
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

/**
 * RequestMeta for one call. The request id comes from `x-request-id` so a
 * client retrying a command gets the same event ids (idempotent append).
 */
export function buildRequestMeta(
  metadata: Metadata,
  principal: Principal,
  extras: { trace?: TraceContext | undefined; now?: Date } = {},
): RequestMeta {
  const given = single(metadata, 'x-request-id');
  if (given !== undefined && !UUID.test(given)) {
    throw new ValidationError(`metadata x-request-id must be a UUID, got ${JSON.stringify(given.slice(0, 64))}`, {
      field: 'x-request-id',
    });
  }
  const requestId = given?.toLowerCase() ?? randomUUID();
  const correlationId = single(metadata, 'x-correlation-id') ?? requestId;
  if (!CORRELATION_ID.test(correlationId)) {
    throw new ValidationError('metadata x-correlation-id must be 1-128 printable ASCII characters without spaces', {
      field: 'x-correlation-id',
    });
  }
  const meta: RequestMeta = {
    actor: principal.name,
    tenant: principal.tenant,
    admin: principal.admin,
    requestId,
    correlationId,
    at: (extras.now ?? new Date()).toISOString(),
  };
  const reason = single(metadata, 'x-reason');
  if (reason !== undefined) {
    if (!REASON.test(reason) || reason.trim() === '') {
      throw new ValidationError(`metadata x-reason must be 1-${MAX_REASON_LENGTH} printable ASCII characters, not only spaces`, { field: 'x-reason' });
    }
    meta.reason = reason;
  }
  if (extras.trace !== undefined) meta.trace = extras.trace;
  return meta;
}
