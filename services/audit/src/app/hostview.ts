/**
 * Asks hostview what a host's view was (`strata.qry.hostview.at`, see
 * libs/contracts/src/audit/hostview-at.ts): a plain JSON request answered in
 * the runtime's reply envelope by the one partition that owns the host (the
 * others stay silent), so the first reply is the answer. No answer within
 * the bounded wait is UNAVAILABLE, never a guess.
 */
import type { NatsConnection } from 'nats';
import { HOSTVIEW_AT_SUBJECT, HostviewAtReply, type HostviewAtRequest } from '@strata/contracts';
import { ErrorCode, fromSerialized, StrataError } from '@strata/errors';
import { parseReply } from '@strata/runtime';

export type AskHostAt = (request: HostviewAtRequest) => Promise<HostviewAtReply>;

export function hostAtAsker(nc: NatsConnection, timeoutMs: number): AskHostAt {
  return async (request) => {
    let data: unknown;
    try {
      // The connection's inbox prefix is the audit user's own (_INBOX_audit), the only replies it may hear.
      data = (await nc.request(HOSTVIEW_AT_SUBJECT, JSON.stringify(request), { timeout: timeoutMs })).json<unknown>();
    } catch (err) {
      throw new StrataError(ErrorCode.Unavailable, `hostview did not answer for host ${request.hostId} within ${timeoutMs} ms`, {}, { cause: err });
    }
    const envelope = parseReply(data);
    if (envelope === undefined) throw new StrataError(ErrorCode.Internal, `hostview answered host ${request.hostId} with something that is not a reply`);
    if (!envelope.ok) throw fromSerialized(envelope.error);
    const parsed = HostviewAtReply.safeParse(envelope.result);
    if (!parsed.success) throw new StrataError(ErrorCode.Internal, `hostview's answer for host ${request.hostId} does not match its contract: ${parsed.error.message}`);
    return parsed.data;
  };
}
