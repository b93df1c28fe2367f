/**
 * Runs a decider against the projection and appends its event with
 * optimistic concurrency. On a conflict (another instance wrote first) it
 * waits until the projection has that write, then decides again against the
 * fresh state: a conflict is retried, never overwritten.
 *
 * A client request (`meta.request`) is looked up first in the request index
 * its own log built (requests.ts): one already applied is answered from its
 * record, without deciding or writing; the same request id with another
 * command is refused. Its events get ids derived from the request
 * (`requestEventId`), which is what that index is folded from.
 *
 * Generic over the state `S` and the service's new-event union `E`; the
 * service supplies `encode` (its event registry's).
 */
import { ConcurrencyError, ErrorCode, StrataError } from '@strata/errors';
import { requestEventId, type EventStore, type TraceContext } from '@strata/eventlog';
import { extractTrace, injectTrace, withSpan } from '@strata/runtime';
import type { Append, Caller, Decision } from './decision.js';
import { KeyedLock } from './keyed-lock.js';
import type { ProjectedState } from './projection.js';
import { refuseSuspect } from './quarantine.js';
import { appliedRequest, pendingRequest, type PendingRequest } from './requests.js';

/** Type and data of an event a decider may produce. */
export interface NewEvent {
  type: string;
  data: unknown;
}

export interface ExecuteMeta<E extends NewEvent> {
  caller: Caller;
  correlationId: string;
  trace?: TraceContext | undefined;
  /** Distinguishes the events of a multi-step command (e.g. `close`, `delete`). */
  step?: string;
  /** Default: the caller's request id. */
  causationId?: string | null;
  /** Why, in the caller's words: stored on the event. */
  reason?: string | undefined;
  /**
   * The client request this executes: its operation and parsed body. Given,
   * the request is idempotent for the retention of the request index (see
   * requests.ts), and its event ids are `requestEventId`s.
   */
  request?: { op: string; body: unknown } | undefined;
  /**
   * Event id of the decided event, for work that is not a client request.
   * A reactor derives it from the decision, so every instance deciding the
   * same thing writes the same id. Default: the request id (plus `.step`).
   */
  eventId?: (d: Append<E>) => string;
  /** Decide only once the projection has applied this stream sequence (the caller's read-your-writes position). */
  minSeq?: number | undefined;
  /** How long to wait for `minSeq` (the caller's remaining deadline); default the projection's. */
  minSeqWaitMs?: number | undefined;
}

export interface ExecutorOptions<S extends ProjectedState> {
  store: EventStore;
  projection: { readonly state: S; waitFor(seq: number, timeoutMs?: number): Promise<void> };
  /** Validate event data against its schema and stamp its version (an EventRegistry's `encode`). */
  encode: (type: string, data: unknown) => { version: number; data: unknown };
  /** The service's event context (e.g. `ipam`): the scope of its request index and request event ids. */
  context: string;
  /** Attempts before a conflict reaches the client as ABORTED. */
  maxAttempts?: number;
  onConflict?: () => void;
}

export interface Executed {
  resourceId: string;
  /** Sequence of the written event, or of the state the no-op was decided on. */
  seq: number;
  /** False when the decider answered "already done". */
  written: boolean;
}

/**
 * The id of a decided event. Derived from the request (or, for a reactor,
 * from the decision): a twin of the request in flight at the same time
 * stores its event once (JetStream de-duplication); later ones find the
 * request index. Work with neither (a recovery step) uses its request id.
 */
function eventIdOf<E extends NewEvent>(d: Append<E>, meta: ExecuteMeta<E>, request: PendingRequest | undefined): string {
  if (request) return requestEventId({ key: request.key, fingerprint: request.fingerprint, step: request.step, resourceId: d.resourceId });
  if (meta.eventId) return meta.eventId(d);
  return meta.step ? `${meta.caller.requestId}.${meta.step}` : meta.caller.requestId;
}

const lockKey = (d: Append<unknown>): string => `${d.aggregate.context}.${d.aggregate.type}.${d.aggregate.id}`;

export class Executor<S extends ProjectedState, E extends NewEvent> {
  private readonly lock = new KeyedLock();

  constructor(private readonly options: ExecutorOptions<S>) {}

  async execute(decide: (state: S) => Decision<E>, meta: ExecuteMeta<E>): Promise<Executed> {
    const { projection } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 100;
    // A caller that has seen sequence N (its own earlier write, in any service) must not be judged against older state.
    if (meta.minSeq !== undefined) await projection.waitFor(meta.minSeq, meta.minSeqWaitMs);
    const request = meta.request && pendingRequest(this.options.context, meta.caller, meta.request.op, meta.request.body, meta.step);
    for (let attempt = 1; ; attempt++) {
      const applied = this.applied(request);
      if (applied) return applied;
      const first = decide(projection.state);
      if (first.kind === 'done') return { resourceId: first.resourceId, seq: projection.state.seq, written: false };
      try {
        // Decide again inside the aggregate's lane: a local command ahead of us may have changed the state.
        return await this.lock.run(lockKey(first), () => this.appendDecision(decide, meta, request));
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
        this.options.onConflict?.();
        if (attempt >= maxAttempts) {
          throw new StrataError(ErrorCode.Aborted, `gave up after ${attempt} conflicting writes on ${err.subject}; retry the request`);
        }
        // The other writer's event is in the log: wait until we have applied it, then decide again.
        await projection.waitFor(err.actualVersion ?? projection.state.seq + 1);
      }
    }
  }

  /** The answer to a request step already applied (found in the request index), if it was. */
  private applied(request: PendingRequest | undefined): Executed | undefined {
    const found = request && appliedRequest(this.options.projection.state.requests, request);
    return found && { resourceId: found.resourceId, seq: found.seq, written: false };
  }

  private async appendDecision(decide: (state: S) => Decision<E>, meta: ExecuteMeta<E>, request: PendingRequest | undefined): Promise<Executed> {
    const { store, projection } = this.options;
    // A local twin of this request may have been applied while we waited for the lane.
    const applied = this.applied(request);
    if (applied) return applied;
    const d = decide(projection.state);
    if (d.kind === 'done') return { resourceId: d.resourceId, seq: projection.state.seq, written: false };
    // Its history has an event we could not decode: our view of it may be wrong, so no decision on it is trusted.
    refuseSuspect(projection.state.quarantine, d.aggregate);
    const { caller } = meta;
    const encoded = this.options.encode(d.event.type, d.event.data);
    const id = eventIdOf(d, meta, request);
    const attributes = { 'strata.event.type': d.event.type, 'strata.aggregate': lockKey(d), 'strata.resource': d.resourceId, 'strata.event.id': id };
    // The event carries this span's context: whoever follows the log (hostview, reactors) continues the trace from the append.
    const result = await withSpan(`append ${d.event.type}`, attributes, extractTrace(meta.trace), async (span, otel) => {
      const trace = injectTrace(otel) ?? meta.trace;
      const event = {
        id,
        type: d.event.type,
        version: encoded.version,
        aggregate: d.aggregate,
        data: encoded.data,
        tenant: d.tenant,
        actor: caller.actor,
        occurredAt: caller.at,
        correlationId: meta.correlationId,
        causationId: meta.causationId === undefined ? caller.requestId : meta.causationId,
        ...(meta.reason ? { reason: meta.reason } : {}),
        ...(trace ? { trace } : {}),
      };
      const appended = await store.append(d.aggregate, event, { expectedVersion: d.expectedVersion === 0 ? 'none' : d.expectedVersion });
      span.setAttribute('strata.event.seq', appended.seq);
      return appended;
    });
    // Answer only from a state that includes our write (read-your-writes for the caller).
    await projection.waitFor(result.seq);
    return { resourceId: d.resourceId, seq: result.seq, written: true };
  }
}
