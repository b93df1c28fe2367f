/**
 * A service's state in one instance: loaded from a snapshot (or empty), then
 * kept current by an ordered feed of the log from the state's sequence on.
 * Commands decide against it; queries read it. Generic over the state: the
 * service supplies the subject filter and the fold of one stored event.
 */
import type { EventStore, EventSubscription, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { SeqWaiters } from './seq-waiters.js';

export interface ProjectedState {
  /** Last stream sequence applied. */
  seq: number;
}

export interface ProjectionOptions<S extends ProjectedState> {
  store: EventStore;
  logger: Logger;
  /** Subject filter of the feed (one: nats-server 2.9 consumers take a single filter); undefined = the whole stream. */
  subject: string | undefined;
  /** Starting point, e.g. from a snapshot. */
  initial: S;
  /** Fold one stored event into the state (mutating it); must set `state.seq` to the event's sequence. */
  apply: (state: S, event: StoredEvent) => void;
  /** Called after each applied event (metrics, snapshot policy). */
  onApplied?: (state: S, event: StoredEvent) => void;
}

export class Projection<S extends ProjectedState> {
  private readonly current: S;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly waiters = new SeqWaiters();
  private failure: Error | undefined;

  constructor(private readonly options: ProjectionOptions<S>) {
    this.current = options.initial;
    this.waiters.advance(this.current.seq);
  }

  get state(): S {
    return this.current;
  }

  /** Start following the log; resolves once every event stored before now is applied. */
  async start(): Promise<void> {
    const { subject } = this.options;
    this.subscription = this.options.store.subscribe({ ...(subject === undefined ? {} : { subject }), fromSeq: this.current.seq + 1 });
    const sub = this.subscription;
    this.loop = (async () => {
      for await (const event of sub) this.apply(event);
    })().catch((err: unknown) => {
      // A stored event the service cannot read is a broken invariant: stop applying (never skip it) and fail readiness.
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
    this.options.apply(this.current, event);
    this.options.onApplied?.(this.current, event);
    this.waiters.advance(event.seq);
  }
}
