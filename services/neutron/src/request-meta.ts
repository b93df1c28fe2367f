/**
 * Who is asking, for the services: a validated Keystone identity becomes
 * the RequestMeta every command and query carries. What keystonemiddleware
 * answers when there is no valid token is here too.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Identity } from '@strata/identity';
import type { RequestMeta, TraceContext } from '@strata/runtime';

/** keystonemiddleware auth_token's rejection (401), body and all. */
export const UNAUTHORIZED_BODY = {
  error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
} as const;

/** oslo.middleware's request id form: `req-` and a UUID. */
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IncomingIds {
  /** X-Openstack-Request-Id as the caller sent it (a global request id, e.g. nova's for a whole boot). */
  globalRequestId?: string | undefined;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/**
 * This request's own id: always new, as oslo.middleware's request_id makes
 * it (answered in X-Openstack-Request-Id). A caller's X-Openstack-Request-Id
 * is a *global* request id that OpenStack services reuse across many
 * different requests, so it is the correlation id, never the request id:
 * services treat a request id as an idempotency key, and a reused one would
 * refuse the caller's second, different request.
 */
export function newRequestId(): string {
  return randomUUID();
}

export const responseRequestId = (requestId: string): string => `req-${requestId}`;

export function requestMeta(identity: Identity, requestId: string, incoming: IncomingIds, now: Date): RequestMeta {
  const global = incoming.globalRequestId !== undefined && REQUEST_ID.test(incoming.globalRequestId) ? incoming.globalRequestId.toLowerCase() : undefined;
  const meta: RequestMeta = {
    actor: `keystone:${identity.userName}`,
    tenant: identity.projectId,
    admin: identity.role === 'admin',
    requestId,
    correlationId: global ?? responseRequestId(requestId),
    at: now.toISOString(),
  };
  if (incoming.traceparent !== undefined) {
    const trace: TraceContext = { traceparent: incoming.traceparent };
    if (incoming.tracestate !== undefined) trace.tracestate = incoming.tracestate;
    meta.trace = trace;
  }
  return meta;
}

/** A UUID-shaped id derived from a request id and a step: the same step of the same request always gets the same one. */
export function stepRequestId(requestId: string, step: string): string {
  const h = createHash('sha256').update(`strata/neutron-step/v1:${JSON.stringify([requestId, step])}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const stepMeta = (meta: RequestMeta, step: string): RequestMeta => ({ ...meta, requestId: stepRequestId(meta.requestId, step) });
