/**
 * What each owning service answers about its own history (query `history`
 * in every service contract that owns audit kinds, see kinds.ts): one
 * resource's versions up to a log position, rebuilt by folding that
 * resource's aggregate's events — and only those — with the service's own
 * fold, from its empty state. A version is the resource's view after an
 * event that changed it, with who, when and why of that event.
 *
 * Scoped like every query: a tenant asking for another tenant's resource
 * (or an operator resource) gets NOT_FOUND, exactly as for a missing one.
 */
import { z } from 'zod';
import { AuditKind, AuditResourceId } from './kinds.js';

/** Who, when and why of one event: enough to name it and to ask its request's other events by correlation. */
export const EventRef = z.object({
  seq: z.number().int().positive(),
  storedAt: z.string(),
  occurredAt: z.string(),
  eventId: z.string(),
  type: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
});
export type EventRef = z.infer<typeof EventRef>;

/** A resource's view as JSON (the service's own view of it); null: it did not exist (deleted). */
export const ResourceView = z.record(z.string(), z.unknown()).nullable();
export type ResourceView = z.infer<typeof ResourceView>;

export const ResourceVersion = z.object({
  /** The event after which the resource looked like `view`. */
  event: EventRef,
  view: ResourceView,
});
export type ResourceVersion = z.infer<typeof ResourceVersion>;

export const ResourceHistoryRequest = z.object({
  kind: AuditKind,
  id: AuditResourceId,
  /** The aggregate holding it (the audit service knows it from the log; equal to `id` for a resource that is an aggregate). */
  aggregateId: AuditResourceId,
  /** Fold the aggregate's events up to and including this log position. */
  toSeq: z.number().int().positive(),
});
export type ResourceHistoryRequest = z.infer<typeof ResourceHistoryRequest>;

export const ResourceHistoryReply = z.object({
  kind: AuditKind,
  id: z.string(),
  /** The tenant owning the resource (`_system` for operator resources). */
  tenant: z.string(),
  /** Every version, oldest first: one per event that changed the resource's view (an event of the aggregate that leaves it as it was adds none). */
  versions: z.array(ResourceVersion),
  /** Events of the aggregate read (the cost of the answer: the aggregate's events up to `toSeq`, no others). */
  eventsRead: z.number().int().nonnegative(),
  /** Events of the aggregate this version of the service could not read (quarantined), by sequence: the versions after them may lack their effect. */
  unreadable: z.array(z.object({ seq: z.number().int(), reason: z.string() })),
});
export type ResourceHistoryReply = z.infer<typeof ResourceHistoryReply>;

/** Spread into a service contract's queries: `history: historyQuery`. */
export const historyQuery = { request: ResourceHistoryRequest, reply: ResourceHistoryReply } as const;
