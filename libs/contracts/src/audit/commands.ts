/** Requests of the audit service. */
import { z } from 'zod';
import { HostId } from '../common.js';
import { AuditKind, AuditResourceId } from './kinds.js';

/**
 * A point in the log: a position (stream sequence) or an instant (ISO-8601,
 * resolved to the last event stored at or before it). Exactly one.
 */
export const AuditPointRequest = z
  .object({
    position: z.number().int().positive({ message: 'a log position is a positive integer' }).optional(),
    time: z.string().datetime({ offset: true, message: 'must be an ISO-8601 time like 2026-12-06T14:03:00Z' }).optional(),
  })
  .strict()
  .refine((p) => (p.position === undefined) !== (p.time === undefined), { message: 'give exactly one of a position or a time' });
export type AuditPointRequest = z.infer<typeof AuditPointRequest>;

const Resource = { kind: AuditKind, id: AuditResourceId };

/**
 * Where a resource's history lives and the points asked, resolved: what the
 * api asks the audit service before it asks the owning service for the
 * versions (the api is the only signer of requests to services, so it is the
 * api that asks both; see docs/architecture.md "Audit by replay").
 */
export const AuditLocateRequest = z.object({ ...Resource, points: z.array(AuditPointRequest).max(2) }).strict();
export type AuditLocateRequest = z.infer<typeof AuditLocateRequest>;

export const AuditShowRequest = z.object({ ...Resource, at: AuditPointRequest }).strict();
export const AuditDiffRequest = z.object({ ...Resource, from: AuditPointRequest, to: AuditPointRequest.optional() }).strict();
/** `at` absent: now (the log's last position). */
export const AuditBlameRequest = z.object({ ...Resource, at: AuditPointRequest.optional() }).strict();
export const AuditHostRequest = z.object({ hostId: HostId, at: AuditPointRequest }).strict();
export const AuditHostDiffRequest = z.object({ hostId: HostId, from: AuditPointRequest, to: AuditPointRequest.optional() }).strict();

export type AuditShowRequest = z.infer<typeof AuditShowRequest>;
export type AuditDiffRequest = z.infer<typeof AuditDiffRequest>;
export type AuditBlameRequest = z.infer<typeof AuditBlameRequest>;
export type AuditHostRequest = z.infer<typeof AuditHostRequest>;
export type AuditHostDiffRequest = z.infer<typeof AuditHostDiffRequest>;

/** Past this many events in a host diff's interval, only its endpoints are rendered (each line change then names no single event). */
export const MAX_HOST_DIFF_EVENTS = 500;
