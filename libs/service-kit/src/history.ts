/**
 * A service's answer to "what did this resource look like, event by event,
 * up to log position S" (the `history` query of every service that owns
 * audit kinds; contract in libs/contracts/src/audit/history.ts).
 *
 * It reads the resource's aggregate's events — one subject, so the store
 * reads those and no others (plus, for a kind with `alsoIn`, the events of
 * that other aggregate naming this one, e.g. a network's creation on IPAM's
 * cloud aggregate) — up to S and folds them with the service's own
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
  const also = 'alsoIn' in spec ? spec.alsoIn : undefined;
  const events = also
    ? mergeBySeq(
        src.store.read({ subject, toSeq: req.toSeq }),
        src.store.read({ subject: aggregateSubject({ context: spec.context, type: also.aggregate, id: also.aggregateId }), toSeq: req.toSeq }),
      )
    : src.store.read({ subject, toSeq: req.toSeq });
  // Of the other aggregate, only the events naming this one are the resource's: the rest are read, not folded
  // (an unreadable one cannot say whom it names, so it is reported like the aggregate's own).
  const foreign = (e: StoredEvent): boolean =>
    also !== undefined && e.aggregate.type === also.aggregate && !e.unreadable && (e.data as Record<string, unknown> | null)?.[also.field] !== req.aggregateId;
  const state = src.initial();
  const versions: ResourceHistoryReply['versions'] = [];
  const unreadable: ResourceHistoryReply['unreadable'] = [];
  let eventsRead = 0;
  let previous = canonical(null);
  let tenant: string | undefined;
  for await (const event of events) {
    eventsRead++;
    if (foreign(event)) continue;
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

/** Two logs' events (each in sequence order, no sequence in both) as one, in sequence order. */
async function* mergeBySeq(a: AsyncIterable<StoredEvent>, b: AsyncIterable<StoredEvent>): AsyncGenerator<StoredEvent> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  try {
    let na = await ia.next();
    let nb = await ib.next();
    while (!na.done || !nb.done) {
      if (nb.done || (!na.done && na.value.seq < nb.value.seq)) {
        yield na.value as StoredEvent;
        na = await ia.next();
      } else {
        yield nb.value;
        nb = await ib.next();
      }
    }
  } finally {
    await Promise.all([ia.return?.(), ib.return?.()]);
  }
}
