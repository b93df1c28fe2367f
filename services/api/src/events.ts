/**
 * ListEvents and Watch, served straight from the event log (not through a
 * service): the log is the audit record, and reading it needs no owner.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type {
  Event,
  EventServiceHandlers,
  ListEventsRequest__Output,
  WatchRequest__Output,
  WatchResponse,
} from '@strata/proto';
import { StrataError, ErrorCode } from '@strata/errors';
import { toServiceError } from './errors.js';
import { eventFilter, fromSeqOf, matches, type EventFilter } from './event-filter.js';
import { unary, withCall, type RpcDeps } from './rpc.js';
import { send } from './stream-write.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

export function toProtoEvent(e: StoredEvent): Event {
  return {
    id: e.id,
    type: e.type,
    version: e.version,
    seq: e.seq,
    aggregate: e.aggregate,
    tenant: e.tenant,
    actor: e.actor,
    occurredAt: e.occurredAt,
    storedAt: e.storedAt,
    correlationId: e.correlationId,
    causationId: e.causationId ?? undefined,
    reason: e.reason ?? '',
    traceparent: e.trace?.traceparent ?? '',
    tracestate: e.trace?.tracestate ?? '',
    dataJson: JSON.stringify(e.data),
  };
}

export class EventsRpc {
  /** Stops of the live Watch calls, so shutdown can end them instead of waiting forever. */
  private readonly watches = new Set<() => Promise<void>>();
  private closing = false;

  constructor(
    private readonly store: EventStore,
    private readonly deps: RpcDeps,
  ) {}

  handlers(): EventServiceHandlers {
    return {
      ListEvents: unary(this.deps, 'ListEvents', (req: ListEventsRequest__Output, { principal }) =>
        this.list(req, eventFilter(req, principal)),
      ),
      Watch: (call) => void this.watch(call),
    };
  }

  /** End every Watch with UNAVAILABLE so clients reconnect (to another instance) from their last seq. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.watches].map((stop) => stop()));
  }

  private async list(req: ListEventsRequest__Output, f: EventFilter) {
    const limit = Math.min(req.limit || DEFAULT_LIMIT, MAX_LIMIT);
    const read = { fromSeq: fromSeqOf(req.fromSeq), ...(f.subject ? { subject: f.subject } : {}) };
    const events: Event[] = [];
    let nextFromSeq = 0;
    for await (const e of this.store.read(f.until === undefined ? read : { ...read, toTime: new Date(f.until) })) {
      if (!matches(f, e)) continue;
      if (events.length === limit) {
        nextFromSeq = e.seq;
        break;
      }
      events.push(toProtoEvent(e));
    }
    return { events, nextFromSeq };
  }

  private async watch(call: ServerWritableStream<WatchRequest__Output, WatchResponse>): Promise<void> {
    try {
      await withCall(this.deps, 'Watch', call.metadata, async ({ principal }) => {
        const f = eventFilter(call.request, principal);
        const fromSeq = fromSeqOf(call.request.fromSeq);
        // History ends at the log's head as of now; everything after it is live.
        const head = await this.store.lastSeq(f.subject);
        const sub = this.store.subscribe({ fromSeq, ...(f.subject ? { subject: f.subject } : {}) });
        const stop = (): Promise<void> => sub.stop();
        const onCancel = (): void => void stop();
        call.once('cancelled', onCancel);
        this.watches.add(stop);
        try {
          let caughtUp = head < fromSeq;
          if (caughtUp) await send(call, { caughtUp: { seq: head } });
          for await (const e of sub) {
            if (call.cancelled) break;
            if (matches(f, e)) await send(call, { event: toProtoEvent(e) });
            if (!caughtUp && e.seq >= head) {
              caughtUp = true;
              await send(call, { caughtUp: { seq: head } });
            }
          }
        } finally {
          this.watches.delete(stop);
          call.off('cancelled', onCancel);
          await sub.stop();
        }
        if (this.closing) throw new StrataError(ErrorCode.Unavailable, 'API server shutting down: watch again from the next seq');
      });
      if (!call.cancelled) call.end();
    } catch (err) {
      if (!call.cancelled) call.emit('error', toServiceError(err));
    }
  }
}
