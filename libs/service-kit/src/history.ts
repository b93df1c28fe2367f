/**
 * A service's answer to "what did this resource look like, event by event,
 * up to log position S" (the `history` query of every service that owns
 * audit kinds; contract in libs/contracts/src/audit/history.ts).
 *
 * It reads the resource's aggregate's events — one subject, so the store
 * reads those and no others — up to S and folds them with the service's own
 * fold from its empty state, taking the resource's view after each event:
 * the domain code that built the live state builds the past one, so there
 * is no second implementation to drift. An event that leaves the view as it
 * was adds no version.
 *
 * A view must therefore depend only on its aggregate's own events (not on
 * what the service follows of other contexts): that is what makes the
 * answer at S equal the view taken from the full fold of the log up to S,
 * which each service's property test checks.
 */
import { NotFoundError, ValidationError } from '@strata/errors';
import { aggregateSubject, isEventSchemaError, type EventStore, type StoredEvent } from '@strata/eventlog';
import { AUDIT_KINDS, type AuditKind, type EventRef, type ResourceHistoryReply, type ResourceHistoryRequest } from '@strata/contracts';
import { canSee } from './access.js';
import type { Caller } from './decision.js';
import { writeCanonical } from './digest.js';

/** A resource as one state shows it: its owner and its view (plain JSON). */
export interface OwnedView {
  tenant: string;
  view: Record<string, unknown>;
}

export interface HistorySource<S> {
  store: EventStore;
  /** The service's event context: it answers only for its own kinds. */
  context: string;
  /** The service's empty state (a new one per call: the fold mutates it). */
  initial: () => S;
  /**
   * The service's own fold of one stored event, decoding it (an
   * `EventSchemaError` marks the event unreadable: it is reported and
   * skipped, as the live projection quarantines it).
   */
  fold: (state: S, event: StoredEvent) => void;
  /** The resource in a state; null when it does not exist there. */
  view: (state: S, kind: AuditKind, id: string) => OwnedView | null;
}

/** Who, when and why of a stored event, as the audit contract names it. */
export function eventRef(e: StoredEvent): EventRef {
  return {
    seq: e.seq,
    storedAt: e.storedAt,
    occurredAt: e.occurredAt,
    eventId: e.id,
    type: e.type,
    actor: e.actor,
    reason: e.reason ?? null,
    correlationId: e.correlationId,
    causationId: e.causationId,
  };
}

function canonical(value: unknown): string {
  let out = '';
  writeCanonical(value, (chunk) => (out += chunk));
  return out;
}

export async function resourceHistory<S>(src: HistorySource<S>, caller: Caller, req: ResourceHistoryRequest): Promise<ResourceHistoryReply> {
  const spec = AUDIT_KINDS[req.kind];
  if (spec.context !== src.context) throw new ValidationError(`kind ${req.kind} belongs to ${spec.context}, not ${src.context}`);
  if (!('idField' in spec) && req.aggregateId !== req.id) {
    throw new ValidationError(`a ${req.kind} is its own aggregate: aggregateId must equal id (${req.id})`);
  }
  const subject = aggregateSubject({ context: spec.context, type: spec.aggregate, id: req.aggregateId });
  const state = src.initial();
  const versions: ResourceHistoryReply['versions'] = [];
  const unreadable: ResourceHistoryReply['unreadable'] = [];
  let eventsRead = 0;
  let previous = canonical(null);
  let tenant: string | undefined;
  for await (const event of src.store.read({ subject, toSeq: req.toSeq })) {
    eventsRead++;
    if (event.unreadable) {
      unreadable.push({ seq: event.seq, reason: event.unreadable.reason });
      continue;
    }
    try {
      src.fold(state, event);
    } catch (err) {
      if (!isEventSchemaError(err)) throw err;
      unreadable.push({ seq: event.seq, reason: err.reason });
      continue;
    }
    const now = src.view(state, req.kind, req.id);
    if (now) tenant = now.tenant;
    const text = canonical(now?.view ?? null);
    if (text === previous) continue;
    previous = text;
    versions.push({ event: eventRef(event), view: now ? now.view : null });
  }
  // Another tenant's resource, and an operator resource asked by a tenant, are missing to the caller (no existence oracle).
  const allowed = tenant !== undefined && canSee(caller, tenant) && (spec.tenantScoped || caller.admin);
  if (!allowed || versions.length === 0) {
    throw new NotFoundError(req.kind, `${req.id} (in the log up to position ${req.toSeq})`);
  }
  return { kind: req.kind, id: req.id, tenant: tenant!, versions, eventsRead, unreadable };
}
