/**
 * Follows IPAM's events and keeps the KV bucket equal to the derivation.
 *
 * Start-up (also after a crash at any point):
 *   1. replay `strata.evt.ipam.>` from the start into the model (no views,
 *      no writes) up to the log's last sequence at start;
 *   2. compute every owned host's view;
 *   3. reconcile: read the bucket's owned keys, put what differs, delete
 *      what should not exist, and wait for the acks;
 * then apply each further event incrementally (HostViews) and queue its
 * writes. The same subscription carries replay and live events, so no event
 * falls between them.
 *
 * Nothing is trusted from the bucket except as "what is there now": a crash
 * between an event and its writes, a key deleted by hand, or writes by an
 * older version are all repaired by step 3.
 */
import { eventFilter, ipamEvents, IPAM_CONTEXT } from '@strata/contracts';
import type { EventStore, EventSubscription, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { hostOfKey } from '../core/derive.js';
import { diffMaps } from '../core/diff.js';
import { applyEvent, emptyModel, type Model } from '../core/model.js';
import { HostViews, type ViewUpdate } from '../core/views.js';
import type { KvPublisher } from './publisher.js';

export interface ProjectionOptions {
  store: EventStore;
  publisher: KvPublisher;
  /** Which hosts this instance owns (its partition). */
  owns: (hostId: string) => boolean;
  logger: Logger;
  /** After each applied event; `update` is undefined during the start-up replay. */
  onApplied?: (event: StoredEvent, update: ViewUpdate | undefined) => void;
  /** How long stop() waits for queued writes to be acknowledged. */
  stopFlushTimeoutMs?: number;
}

export interface StartResult {
  /** Events replayed before the views were computed. */
  replayed: number;
  /** Writes the reconcile made. */
  puts: number;
  deletes: number;
}

export class HostviewProjection {
  readonly model: Model = emptyModel();
  readonly views: HostViews;
  private live = false;
  private reconciled = false;
  private failure: Error | undefined;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private replayedCount = 0;
  private readonly caughtUp: Promise<void>;
  private settleCaughtUp!: (err?: Error) => void;

  constructor(private readonly options: ProjectionOptions) {
    this.views = new HostViews(options.owns);
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.settleCaughtUp = (err) => (err ? reject(err) : resolve());
    });
    this.caughtUp.catch(() => undefined);
  }

  /** Replay, compute, reconcile; resolves when the bucket holds the derivation of the log as of start-up. */
  async start(): Promise<StartResult> {
    const { store, publisher, owns } = this.options;
    const subject = eventFilter(IPAM_CONTEXT);
    const target = await store.lastSeq(subject);
    publisher.pause();
    const sub = store.subscribe({ subject, fromSeq: 1 });
    this.subscription = sub;
    if (target === 0) this.goLive();
    this.loop = (async () => {
      for await (const event of sub) this.apply(event, target);
      // Stopped before the replay finished (a no-op once caught up).
      this.settleCaughtUp(new Error('host view projection stopped before it replayed the log'));
    })().catch((err: unknown) => {
      // An event this reader cannot understand is a broken invariant: stop (never skip it) and fail readiness.
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ err, seq: this.model.seq }, 'host view projection stopped');
      this.settleCaughtUp(this.failure);
    });
    await this.caughtUp;

    // Events keep arriving meanwhile: they update the views and queue writes, which the reconcile supersedes.
    const actual = await publisher.readAll((key) => owns(hostOfKey(key)));
    const ops = diffMaps(actual, this.views.snapshot());
    publisher.replacePending(ops);
    publisher.resume();
    await publisher.idle();
    this.reconciled = true;
    const puts = ops.filter((o) => o.op === 'put').length;
    return { replayed: this.replayedCount, puts, deletes: ops.length - puts };
  }

  /** Reconciled, applying events, and writes going through. */
  get ready(): boolean {
    return this.reconciled && this.failure === undefined && this.options.publisher.healthy;
  }

  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** Last stream sequence applied to the model. */
  get seq(): number {
    return this.model.seq;
  }

  /** Stop following the log, then give queued writes a bounded time to be acknowledged. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.loop;
    const { publisher } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.stopFlushTimeoutMs ?? 10_000);
    });
    if ((await Promise.race([publisher.idle(), timeout])) === 'timeout') {
      this.options.logger.warn({ backlog: publisher.backlog }, 'stopping with unwritten host view changes; the next start-up reconcile writes them');
    }
    clearTimeout(timer);
    await publisher.close();
  }

  private apply(stored: StoredEvent, target: number): void {
    if (stored.seq <= this.model.seq) return;
    const change = applyEvent(this.model, ipamEvents.decode(stored));
    if (this.live) {
      const update = this.views.apply(this.model, change);
      this.options.publisher.enqueue(update.ops);
      this.options.onApplied?.(stored, update);
      return;
    }
    this.replayedCount += 1;
    this.options.onApplied?.(stored, undefined);
    if (stored.seq >= target) this.goLive();
  }

  /** The log as of start-up is in the model: compute every owned host, then go incremental. */
  private goLive(): void {
    this.views.rebuild(this.model);
    this.live = true;
    this.settleCaughtUp();
  }
}
