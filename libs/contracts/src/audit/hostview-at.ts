/**
 * What hostview answers about a hypervisor's past (for the audit service):
 * the host's view — the keys and values it would have written to the
 * host's bucket — at a log position, and, between two positions, each
 * event that changed that view with the keys it changed. Rebuilt from
 * hostview's own code: its model at the nearest audit snapshot at or
 * before the position (or empty), then the log replayed up to it; never
 * from the live model, which has moved on.
 *
 * On the wire like `strata.qry.hostview.positions` (plain JSON request, the
 * runtime's reply envelope); only the partition that owns the host answers
 * (the others stay silent), and only the audit service's NATS user may
 * publish on the subject.
 */
import { z } from 'zod';
import { HostId } from '../common.js';
import { EventRef } from './history.js';

export const HOSTVIEW_AT_SUBJECT = 'strata.qry.hostview.at';

export const HostviewAtRequest = z.object({
  hostId: HostId,
  /** The view after every event up to and including this position. */
  toSeq: z.number().int().positive(),
  /** With `fromSeq` (< toSeq): also the view at `fromSeq` and every change in between. */
  fromSeq: z.number().int().nonnegative().optional(),
});
export type HostviewAtRequest = z.infer<typeof HostviewAtRequest>;

/** A host's view: key → the value hostview writes under it (the codec's JSON, see hostview.ts). */
export const HostViewKeys = z.record(z.string(), z.unknown());
export type HostViewKeys = z.infer<typeof HostViewKeys>;

export const HostViewChange = z.object({
  event: EventRef,
  /** The keys this event changed on the host: the new value, or null for a key it removed. */
  keys: z.record(z.string(), z.unknown().nullable()),
});
export type HostViewChange = z.infer<typeof HostViewChange>;

export const HostviewAtReply = z.object({
  hostId: z.string(),
  toSeq: z.number().int(),
  /** The view at `toSeq`. */
  view: HostViewKeys,
  /** With `fromSeq`: the view at `fromSeq`, and the changes in (fromSeq, toSeq] in log order. */
  from: z.object({ seq: z.number().int(), view: HostViewKeys, changes: z.array(HostViewChange) }).optional(),
  /** Where the replay started: the audit snapshot's position (0: from the beginning of the log). */
  snapshotSeq: z.number().int().nonnegative(),
  /** Events folded to answer (after the snapshot). */
  replayed: z.number().int().nonnegative(),
});
export type HostviewAtReply = z.infer<typeof HostviewAtReply>;
