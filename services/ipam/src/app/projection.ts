/**
 * The IPAM state of one instance: loaded from the latest snapshot, then
 * kept current by an ordered feed of `strata.evt.ipam.>` from the snapshot's
 * sequence on. Commands decide against it; queries read it.
 */
import { ipamEvents, eventFilter, IPAM_CONTEXT } from '@strata/contracts';
import type { EventStore, EventSubscription, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { evolve } from '../domain/evolve.js';
import { initialState, type IpamState } from '../domain/state.js';
import { SeqWaiters } from './seq-waiters.js';

export interface ProjectionOptions {
  store: EventStore;
  logger: Logger;
  /** Starting point, e.g. from a snapshot. Default: empty state at sequence 0. */
  initial?: IpamState;
  /** Called after each applied event (metrics, snapshot policy). */
  onApplied?: (state: IpamState, event: StoredEvent) => void;
}

export class Projection {
  private current: IpamState;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly waiters = new SeqWaiters();
  private failure: Error | undefined;

  constructor(private readonly options: ProjectionOptions) {
    this.current = options.initial ?? initialState();
    this.waiters.advance(this.current.seq);
  }

  get state(): IpamState {
    return this.current;
  }

  /** Start following the log; resolves once every event stored before now is applied. */
  async start(): Promise<void> {
    this.subscription = this.options.store.subscribe({ subject: eventFilter(IPAM_CONTEXT), fromSeq: this.current.seq + 1 });
    const sub = this.subscription;
    this.loop = (async () => {
      for await (const event of sub) this.apply(event);
    })().catch((err: unknown) => {
      // A stored event IPAM cannot read is a broken invariant: stop applying (never skip it) and fail readiness.
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ err }, 'projection stopped');
      this.waiters.fail(this.failure);
    });
    await sub.caughtUp;
  }

  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** Resolves once the projection has applied every event up to `seq` (a stream sequence). */
  waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    return this.waiters.waitFor(seq, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.loop;
  }

  private apply(event: StoredEvent): void {
    if (event.seq <= this.current.seq) return;
    evolve(this.current, ipamEvents.decode(event));
    this.options.onApplied?.(this.current, event);
    this.waiters.advance(event.seq);
  }
}
