/**
 * Answers the audit service's `strata.qry.hostview.at`
 * (libs/contracts/src/audit/hostview-at.ts) with `hostAt` (host-at.ts): a
 * host's view at a past position, rebuilt apart from the live model.
 *
 * On the wire like `strata.qry.hostview.positions` (positions-query.ts): a
 * plain subscription, the request the JSON of a `HostviewAtRequest`, the
 * reply the runtime's reply envelope. Only the partition that owns the host
 * answers; the others stay silent (a request that is not a valid request is
 * answered by partition 0 alone). Not signed: NATS permissions let only the
 * audit service's user publish it (infra/nats/render-accounts.mjs).
 *
 * One answer is computed at a time (each folds a model of its own: memory
 * and CPU); `maxQueued` more wait, any further one is refused UNAVAILABLE.
 * An answer larger than the connection's max payload is refused
 * RESOURCE_EXHAUSTED, saying its size (ask a shorter interval).
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { HOSTVIEW_AT_SUBJECT, HostviewAtRequest, type HostviewAtReply } from '@strata/contracts';
import { ErrorCode, ExhaustedError, StrataError, toStrataError } from '@strata/errors';
import type { Logger, ReplyEnvelope } from '@strata/runtime';
import { hostAt, type HostAtOptions } from './host-at.js';
import { parsePlainRequest } from './plain-request.js';

export interface AtQueryOptions extends HostAtOptions {
  /** Whether this instance owns (answers for) a host. */
  owns: (hostId: string) => boolean;
  /** This instance answers requests that cannot be read (partition 0). */
  answersInvalid: boolean;
  /** Requests waiting behind the one being answered before more are refused. */
  maxQueued: number;
  /** Largest reply (bytes); default the server's max_payload. */
  maxReplyBytes?: number;
  logger: Logger;
}

type Parsed = { ok: true; req: HostviewAtRequest } | { ok: false; error: StrataError };

function parse(data: Uint8Array): Parsed {
  try {
    return { ok: true, req: parsePlainRequest(data, HostviewAtRequest) };
  } catch (err) {
    return { ok: false, error: toStrataError(err) };
  }
}

/** The reply text for one request of a host this instance owns, whatever happens. */
export async function answerAt(req: HostviewAtRequest, o: AtQueryOptions & { maxReplyBytes: number }): Promise<string> {
  let reply: ReplyEnvelope<HostviewAtReply>;
  try {
    const result = await hostAt(req, o);
    reply = { ok: true, result, seq: req.toSeq };
  } catch (err) {
    const error = toStrataError(err);
    if (error.code === ErrorCode.Internal) o.logger.error({ err, req }, 'hostview at query failed');
    reply = { ok: false, error: error.toJSON() };
  }
  const text = JSON.stringify(reply);
  const bytes = Buffer.byteLength(text);
  if (bytes <= o.maxReplyBytes) return text;
  const what = req.fromSeq === undefined ? `the view of ${req.hostId} at ${req.toSeq}` : `the view of ${req.hostId} from ${req.fromSeq} to ${req.toSeq} with its changes`;
  const error = new ExhaustedError(`${what} is ${bytes} bytes, over the largest reply of ${o.maxReplyBytes} bytes (NATS max payload)${req.fromSeq === undefined ? '' : ': ask a shorter interval'}`);
  return JSON.stringify({ ok: false, error: error.toJSON() });
}

/** Subscribe; resolves once the server knows the subscription. `stop` lets the answers in flight finish. */
export async function serveAt(nc: NatsConnection, o: AtQueryOptions): Promise<{ stop(): Promise<void> }> {
  const maxReplyBytes = o.maxReplyBytes ?? nc.info?.max_payload ?? 1024 * 1024;
  const inFlight = new Set<Promise<void>>();
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  const respond = (msg: Msg, text: string): void => {
    if (msg.reply) msg.respond(text);
  };
  const sub: Subscription = nc.subscribe(HOSTVIEW_AT_SUBJECT, {
    callback: (err, msg) => {
      if (err) {
        o.logger.error({ err }, 'hostview at subscription error');
        return;
      }
      const parsed = parse(msg.data);
      if (!parsed.ok) {
        if (o.answersInvalid) respond(msg, JSON.stringify({ ok: false, error: parsed.error.toJSON() }));
        return;
      }
      if (!o.owns(parsed.req.hostId)) return;
      if (waiting >= o.maxQueued + 1) {
        respond(msg, JSON.stringify({ ok: false, error: new StrataError(ErrorCode.Unavailable, `hostview is answering ${waiting} host-at queries already: retry later`).toJSON() }));
        return;
      }
      waiting++;
      // Chained one after the other; the chain never rejects, so one failure does not stop the next.
      const done = queue
        .then(async () => {
          try {
            respond(msg, await answerAt(parsed.req, { ...o, maxReplyBytes }));
          } finally {
            waiting--;
          }
        })
        .catch((e: unknown) => o.logger.warn({ err: e }, 'could not answer a hostview at query'));
      queue = done;
      void done.finally(() => inFlight.delete(done));
      inFlight.add(done);
    },
  });
  await nc.flush();
  return {
    async stop() {
      if (!sub.isClosed()) await sub.drain();
      await Promise.all(inFlight);
    },
  };
}
