/**
 * A service's state in one instance: loaded from the latest snapshot (or
 * empty), then kept current by an ordered feed of the log from the state's
 * sequence on. Commands decide against it; queries read it.
 *
 * Generic over the state `S` and the decoded event `E`: the service supplies
 * the subject filter of the feed, how a stored event is decoded (validated
 * and upcast by its event registry) and the fold of one event.
 */
import { isEventSchemaError, type EventSchemaError, type EventStore, type EventSubscription, type StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { emptyQuarantine, quarantine, type QuarantineRecord } from './quarantine.js';
import type { RequestIndex } from './requests.js';
import { SeqWaiters } from './seq-waiters.js';

export interface ProjectedState {
  /** Last stream sequence applied. */
  seq: number;
  /** Events this state's reader could not decode (absent until the first); see quarantine.ts. */
  quarantine?: QuarantineRecord;
  /** Client requests this service applied recently, kept by a fold wrapped in `withRequestIndex` (requests.ts). */
  requests?: RequestIndex;
}

export interface ProjectionOptions<S extends ProjectedState, E> {
  store: EventStore;
  logger: Logger;
  /**
   * Subject filter of the feed, e.g. the service's own `strata.evt.<context>.>`.
   * `undefined` reads the whole stream unfiltered, for a state that folds
   * several contexts' events (the fold then skips what it does not need):
   * see `follow` (follow.ts) and eventlog's `feedFilter` for why.
   */
  subject: string | undefined;
  /** Starting point, e.g. from a snapshot, else the service's empty state (at sequence 0). */
  initial: S;
  /**
   * A stored event as the fold takes it. An `EventSchemaError` (from here or
   * from `evolve`, which may decode itself) quarantines the event; any other
   * throw is a bug and stops the projection (see `start`).
   */
  decode: (stored: StoredEvent) => E;
  /** Fold one event into the state (mutating it); must set `state.seq` to the event's sequence. */
  evolve: (state: S, event: E) => void;
  /** Called after each applied event (metrics, snapshot policy). */
  onApplied?: (state: S, event: StoredEvent) => void;
}

export class Projection<S extends ProjectedState, E = StoredEvent> {
  private readonly current: S;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly waiters = new SeqWaiters();
  private failure: Error | undefined;

  constructor(private readonly options: ProjectionOptions<S, E>) {
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
      // A fold that throws on an event it decoded is a bug here: stop applying (never skip it) and fail readiness.
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ err }, 'projection stopped');
      this.waiters.fail(this.failure);
    });
    await sub.caughtUp;
  }

  /** Events this projection could not decode (see quarantine.ts); part of the state, so snapshots carry it. */
  get quarantine(): QuarantineRecord | undefined {
    return this.current.quarantine;
  }

  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Resolves once the projection has applied every event up to `seq` (a
   * stream sequence). The sequence is global to the log, so with a subject
   * filter the projection may never see `seq` itself (another service's
   * event): it is then enough to have applied the last event of the filter,
   * which is looked up when `seq` is not reached yet.
   */
  async waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    if (seq <= this.current.seq || this.options.subject === undefined) return this.waiters.waitFor(seq, timeoutMs);
    const lastOfFilter = await this.options.store.lastSeq(this.options.subject);
    return this.waiters.waitFor(Math.min(seq, lastOfFilter), timeoutMs);
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.loop;
  }

  private apply(event: StoredEvent): void {
    if (event.seq <= this.current.seq) return;
    try {
      this.options.evolve(this.current, this.options.decode(event));
    } catch (err) {
      // Decoding happens before the fold changes anything, so the state is as it was before this event.
      if (!isEventSchemaError(err)) throw err;
      this.quarantineEvent(event, err);
    }
    this.options.onApplied?.(this.current, event);
    this.waiters.advance(event.seq);
  }

  /** An event this version cannot decode: record it, log it once, and go on with the next one. */
  private quarantineEvent(event: StoredEvent, err: EventSchemaError): void {
    const q = quarantine((this.current.quarantine ??= emptyQuarantine()), event, err);
    this.current.seq = event.seq;
    this.options.logger.error(
      { seq: q.seq, subject: q.subject, type: q.type, version: q.version, reason: q.reason, error: q.error },
      'event quarantined: this version cannot decode it; its aggregate refuses commands until a version that reads it runs',
    );
  }
}
