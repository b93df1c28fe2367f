/**
 * Answers the status service's `strata.qry.hostview.positions`
 * (libs/contracts/src/status/hostview-query.ts) from this instance's
 * positions: per owned host its latest change position, and for a resource
 * the owned hosts holding it.
 *
 * A plain subscription, no queue group: every partition answers, and the
 * asker collects one reply per partition. The request is the JSON of a
 * `HostviewPositionsRequest`; the reply is the runtime's reply envelope
 * (libs/runtime/src/messaging.ts: `{ ok: true, result, seq }` with a
 * `HostviewPositionsReply`, or `{ ok: false, error }`), so the asker reads
 * it with `parseReply` and `fromSerialized` like any query's.
 *
 * It answers only after the start-up reconcile (the positions are those of
 * the reconciled views) and once the model has applied `minSeq`; a bounded
 * wait, then UNAVAILABLE. Unlike the api's queries it is not signed: it
 * reveals log positions and host ids, and changes nothing; NATS permissions
 * let only the status user publish it (infra/nats/render-accounts.mjs).
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { HOSTVIEW_POSITIONS_SUBJECT, HostviewPositionsRequest, type HostviewPositionsReply } from '@strata/contracts';
import { ErrorCode, toStrataError } from '@strata/errors';
import type { Logger, ReplyEnvelope } from '@strata/runtime';
import type { HostPosition } from '../core/positions.js';
import { parsePlainRequest } from './plain-request.js';

/** What the answer needs of the projection. */
export interface PositionsSource {
  /** Resolves when the positions are reconciled and the model has applied `seq`; rejects (UNAVAILABLE) after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
  readonly seq: number;
  hostPositions(): HostPosition[];
  holders(kind: NonNullable<HostviewPositionsRequest['resource']>['kind'], id: string): HostPosition[];
}

export interface PositionsQueryOptions {
  source: PositionsSource;
  /** "i/n". */
  partition: string;
  /** How long a request waits for the model to reach its `minSeq`. */
  waitMs: number;
  logger: Logger;
}

/** The answer to one request (the reply envelope), whatever happens. */
export async function answerPositions(data: Uint8Array, o: PositionsQueryOptions): Promise<ReplyEnvelope<HostviewPositionsReply>> {
  try {
    const { minSeq, resource } = parsePlainRequest(data, HostviewPositionsRequest);
    await o.source.waitFor(minSeq, o.waitMs);
    // Read together, with no await in between: the positions are the model's at `seq`.
    const seq = o.source.seq;
    const result: HostviewPositionsReply = {
      partition: o.partition,
      seq,
      hosts: o.source.hostPositions(),
      holders: resource ? o.source.holders(resource.kind, resource.id) : [],
    };
    return { ok: true, result, seq };
  } catch (err) {
    const error = toStrataError(err);
    if (error.code === ErrorCode.Internal) o.logger.error({ err }, 'positions query failed');
    return { ok: false, error: error.toJSON() };
  }
}

/** Subscribe; resolves once the server knows the subscription. `stop` lets the answers in flight finish. */
export async function servePositions(nc: NatsConnection, o: PositionsQueryOptions): Promise<{ stop(): Promise<void> }> {
  const inFlight = new Set<Promise<void>>();
  const respond = async (msg: Msg): Promise<void> => {
    const reply = await answerPositions(msg.data, o);
    if (msg.reply) msg.respond(JSON.stringify(reply));
  };
  const sub: Subscription = nc.subscribe(HOSTVIEW_POSITIONS_SUBJECT, {
    callback: (err, msg) => {
      if (err) {
        o.logger.error({ err }, 'positions subscription error');
        return;
      }
      const done = respond(msg)
        .catch((e: unknown) => o.logger.warn({ err: e }, 'could not answer a positions query'))
        .finally(() => inFlight.delete(done));
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
