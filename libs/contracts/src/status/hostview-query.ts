/**
 * What hostview answers about its own writes, for the status service:
 * per owned host, the log position of the latest change written to that
 * host's view (its `<host>.position.view`), and, for one resource, which
 * owned hosts' views hold it and the position at which each last changed
 * it. Every hostview partition answers (no queue group): the asker collects
 * one reply per partition (`partition` says "i/n").
 *
 * The request carries `minSeq` like every query: the answer is computed
 * after hostview's model has reached that log position, so a command's
 * effects are in it.
 */
import { z } from 'zod';
import { Id } from '../common.js';

/** Resource kinds whose realisation can be asked, and the host-view keys that hold each. */
export const RealisedKind = ['port', 'network', 'router', 'security-group', 'chain'] as const;
export type RealisedKind = (typeof RealisedKind)[number];
/**
 * port: `port.<p>` (its own host), `ep.<p>` and `member.*.<p>` (hosts that
 * reach it or whose rules name its groups); network: `net.<n>`; router:
 * `domain.<r>`; security-group: `sg.<g>` and `member.<g>.*`; chain:
 * `chain.<c>`.
 */
export const ResourceRef = z.object({ kind: z.enum(RealisedKind), id: Id });
export type ResourceRef = z.infer<typeof ResourceRef>;

export const HostviewPositionsRequest = z.object({
  minSeq: z.number().int().nonnegative(),
  resource: ResourceRef.optional(),
});
export type HostviewPositionsRequest = z.infer<typeof HostviewPositionsRequest>;

export const HostviewPositionsReply = z.object({
  /** "i/n": this reply covers the hosts of partition i of n. */
  partition: z.string(),
  /** The log position hostview's model had when it answered (>= minSeq). */
  seq: z.number().int(),
  /** Every owned host whose view has keys: the position of the latest change written to it. */
  hosts: z.array(z.object({ hostId: z.string(), position: z.number().int() })),
  /** With `resource`: the owned hosts holding it and the position of the latest change of its keys there. */
  holders: z.array(z.object({ hostId: z.string(), position: z.number().int() })),
});
export type HostviewPositionsReply = z.infer<typeof HostviewPositionsReply>;

/**
 * Answered by every partition (a plain subscription, no queue group). On
 * the wire: the request is the plain JSON of `HostviewPositionsRequest` (no
 * request envelope, no signature: only the status service's NATS user may
 * publish on this subject); each partition replies to the request's reply
 * subject with the runtime's reply envelope (`{ ok: true, result, seq }`
 * with a `HostviewPositionsReply`, or `{ ok: false, error }`, e.g.
 * UNAVAILABLE when its model did not reach `minSeq` in time).
 */
export const HOSTVIEW_POSITIONS_SUBJECT = 'strata.qry.hostview.positions';
