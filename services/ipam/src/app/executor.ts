/**
 * Runs a decider against the projection and appends its event with
 * optimistic concurrency. On a conflict (another instance wrote first) it
 * waits until the projection has that write, then decides again against the
 * fresh state: a conflict is retried, never overwritten.
 */
import { ConcurrencyError, ErrorCode, StrataError } from '@strata/errors';
import { ipamEvents } from '@strata/contracts';
import type { EventStore, TraceContext } from '@strata/eventlog';
import type { Append, Caller, Decision } from '../domain/decide/types.js';
import type { IpamState } from '../domain/state.js';
import { KeyedLock } from './keyed-lock.js';
import type { Projection } from './projection.js';

export interface ExecuteMeta {
  caller: Caller;
  correlationId: string;
  trace?: TraceContext | undefined;
  /** Distinguishes the events of a multi-step command (e.g. `close`, `delete`). */
  step?: string;
}

export interface ExecutorOptions {
  store: EventStore;
  projection: Projection;
  /** Attempts before a conflict reaches the client as ABORTED. */
  maxAttempts?: number;
  onConflict?: () => void;
}

export interface Executed {
  resourceId: string;
  /** Sequence of the written event, or of the state the no-op was decided on. */
  seq: number;
}

const lockKey = (d: Append): string => `${d.aggregate.context}.${d.aggregate.type}.${d.aggregate.id}`;

export class Executor {
  private readonly lock = new KeyedLock();

  constructor(private readonly options: ExecutorOptions) {}

  async execute(decide: (state: IpamState) => Decision, meta: ExecuteMeta): Promise<Executed> {
    const { projection } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 100;
    for (let attempt = 1; ; attempt++) {
      const first = decide(projection.state);
      if (first.kind === 'done') return { resourceId: first.resourceId, seq: projection.state.seq };
      try {
        // Decide again inside the aggregate's lane: a local command ahead of us may have changed the state.
        return await this.lock.run(lockKey(first), () => this.appendDecision(decide, meta));
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

  private async appendDecision(decide: (state: IpamState) => Decision, meta: ExecuteMeta): Promise<Executed> {
    const { store, projection } = this.options;
    const d = decide(projection.state);
    if (d.kind === 'done') return { resourceId: d.resourceId, seq: projection.state.seq };
    const { caller } = meta;
    const encoded = ipamEvents.encode(d.event.type, d.event.data);
    const result = await store.append(
      d.aggregate,
      {
        // Derived from the request id: the same request re-sent stores its event once (JetStream de-duplication).
        id: meta.step ? `${caller.requestId}.${meta.step}` : caller.requestId,
        type: d.event.type,
        version: encoded.version,
        aggregate: d.aggregate,
        data: encoded.data,
        tenant: d.tenant,
        actor: caller.actor,
        occurredAt: caller.at,
        correlationId: meta.correlationId,
        causationId: caller.requestId,
        ...(meta.trace ? { trace: meta.trace } : {}),
      },
      { expectedVersion: d.expectedVersion === 0 ? 'none' : d.expectedVersion },
    );
    // Answer only from a state that includes our write (read-your-writes for the caller).
    await projection.waitFor(result.seq);
    return { resourceId: d.resourceId, seq: result.seq };
  }
}
