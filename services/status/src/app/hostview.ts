/**
 * Asks hostview where things are (libs/contracts/src/status/hostview-query.ts):
 * every partition answers the one request (no queue group), so the answer is
 * complete when one reply per partition has arrived ("i/n" in each). A
 * partition that does not answer within the bounded wait makes the answer
 * UNAVAILABLE, never wrong: a host it owns would be missing; one that
 * answers with an error makes the answer that error.
 */
import { createInbox, type NatsConnection } from 'nats';
import { HOSTVIEW_POSITIONS_SUBJECT, HostviewPositionsReply, type HostviewPositionsRequest, type ResourceRef } from '@strata/contracts';
import { ErrorCode, fromSerialized, StrataError } from '@strata/errors';
import { parseReply } from '@strata/runtime';
import type { Holder } from '../domain/realisation.js';

export interface HostviewPositions {
  /** The lowest position any partition answered at (each at least the request's minSeq). */
  seq: number;
  /** Every host with a view, and the position of its latest change. */
  hosts: Holder[];
  /** With a resource: the hosts holding it, and the position of its latest change there. */
  holders: Holder[];
}

export type AskHostview = (minSeq: number, resource?: ResourceRef) => Promise<HostviewPositions>;

const partitionOf = (text: string): { index: number; count: number } | undefined => {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index < count ? { index, count } : undefined;
};

/** Collect one reply per partition of hostview, for at most `timeoutMs`. */
export function hostviewAsker(nc: NatsConnection, inboxPrefix: string, timeoutMs: number): AskHostview {
  return async (minSeq, resource) => {
    const request: HostviewPositionsRequest = resource ? { minSeq, resource } : { minSeq };
    const inbox = createInbox(inboxPrefix);
    const sub = nc.subscribe(inbox);
    const replies = new Map<number, HostviewPositionsReply>();
    let count: number | undefined;
    const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
    try {
      nc.publish(HOSTVIEW_POSITIONS_SUBJECT, JSON.stringify(request), { reply: inbox });
      for await (const m of sub) {
        let envelope: ReturnType<typeof parseReply>;
        try {
          envelope = parseReply(m.json<unknown>());
        } catch {
          continue;
        }
        if (envelope === undefined) continue;
        // A partition that cannot answer (its model behind `minSeq`, ...) makes the whole answer fail as it did.
        if (!envelope.ok) throw fromSerialized(envelope.error);
        const parsed = HostviewPositionsReply.safeParse(envelope.result);
        const p = parsed.success ? partitionOf(parsed.data.partition) : undefined;
        if (!parsed.success || p === undefined || (count !== undefined && p.count !== count)) continue;
        count = p.count;
        replies.set(p.index, parsed.data);
        if (replies.size === count) break;
      }
    } finally {
      clearTimeout(timer);
      if (!sub.isClosed()) sub.unsubscribe();
    }
    if (count === undefined || replies.size < count) {
      const missing = count === undefined ? 'no partition answered' : `${count - replies.size} of ${count} partitions did not answer`;
      throw new StrataError(ErrorCode.Unavailable, `hostview's positions are unavailable: ${missing} within ${timeoutMs} ms`);
    }
    const all = [...replies.values()];
    return {
      seq: Math.min(...all.map((r) => r.seq)),
      hosts: all.flatMap((r) => r.hosts),
      holders: all.flatMap((r) => r.holders),
    };
  };
}

/** Resources asked of hostview at once by one query or one publication pass. */
export const HOSTVIEW_CONCURRENCY = 16;
