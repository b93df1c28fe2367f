/**
 * What a pure decider answers: one event for one aggregate, or "already
 * done". Generic over the service's event union `E` (type and data of one
 * of its events).
 */
import { requestResourceId, type AggregateRef } from '@strata/eventlog';
import type { RequestMeta, TraceContext } from '@strata/runtime';

/** Who asks and when: the part of the request metadata a decision may depend on. */
export interface Caller {
  actor: string;
  tenant: string;
  admin: boolean;
  /** Unique per client request (the client's `x-request-id`): names the request, never a resource (see `createdId`). */
  requestId: string;
  /** The request's instant (stamped by the API): domain code never reads a clock. */
  at: string;
}

/** The caller of a request, from the metadata the API stamped on it. */
export const callerOf = (m: RequestMeta): Caller => ({ actor: m.actor, tenant: m.tenant, admin: m.admin, requestId: m.requestId, at: m.at });

/**
 * How a service executes one client command (`op` with its parsed `body`): as
 * its caller, in its correlation and trace, no earlier than the caller's
 * read-your-writes position, and as an idempotent request (see requests.ts).
 */
export function clientCommand(op: string, body: unknown, m: RequestMeta, trace: TraceContext | undefined) {
  return { caller: callerOf(m), correlationId: m.correlationId, reason: m.reason, trace, minSeq: m.minSeq, minSeqWaitMs: m.minSeqWaitMs, request: { op, body } };
}

/**
 * The id of the `kind` resource a `service` command creates for this caller's
 * request: a domain-separated hash of (service, kind, the caller's tenant,
 * its request id), so a retry gets the same id and no other tenant can
 * choose or collide with it (libs/eventlog/src/ids.ts).
 */
export const createdId = (caller: Caller, service: string, kind: string): string => requestResourceId(service, kind, caller);

/** One event to append to one aggregate, decided against `expectedVersion` of it. */
export interface Append<E> {
  kind: 'append';
  aggregate: AggregateRef;
  /** The aggregate's last sequence the decision was made against; 0: must not exist yet. */
  expectedVersion: number;
  /** Tenant that owns the resource the event is about (`_system` for cloud-wide ones). */
  tenant: string;
  event: E;
  /** Id of the resource the command answers with. */
  resourceId: string;
}

/** The command was already carried out (a retried request, or a no-op change): answer without writing. */
export interface AlreadyDone {
  kind: 'done';
  resourceId: string;
}

export type Decision<E> = Append<E> | AlreadyDone;
