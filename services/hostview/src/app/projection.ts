/**
 * Follows the events of the model's input nodes (IPAM, secgroup, NAT, the
 * BGP gateway's route observations) and keeps the host-view buckets equal
 * to the derivation.
 *
 * One subscription, unfiltered: the model depends on those contexts in one
 * total order (a port's groups arrive after IPAM created it; a member's IPs
 * come from IPAM), a nats-server 2.9 consumer takes one filter subject, and
 * a filter equal to the whole stream's subjects (`strata.evt.>`) makes
 * 2.9.10 miscount pending (see services/secgroup/README.md). Events of other
 * contexts are skipped undecoded; only their sequence counts.
 *
 * Start-up (also after a crash at any point):
 *   1. replay the log from the start into the model (no views, no writes)
 *      up to the log's last sequence at start;
 *   2. compute every owned host's view;
 *   3. reconcile: list the existing host-view buckets, read those of owned
 *      hosts, then put what differs, delete what should not exist (also
 *      every key of a host that should have none: a deregistered host's
 *      bucket is emptied, not deleted, so its agent sees the deletes), and
 *      wait for the acks;
 * then apply each further event incrementally (HostViews) and queue its
 * writes. The same subscription carries replay and live events, so no event
 * falls between them.
 *
 * With each live event's writes it queues, per host written, that host's
 * position (`<h>.position.view` = the event's sequence; deleted when the
 * host's view becomes empty), and the reconcile writes every owned host's
 * position as of the reconcile (core/positions.ts). The publisher writes a
 * position only after the writes queued before it are acknowledged.
 *
 * Nothing is trusted from the buckets except as "what is there now": a crash
 * between an event and its writes, a key or bucket deleted by hand, or writes
 * by an older version are all repaired by step 3. Buckets of hosts other
 * instances own (partitions) are not read or written.
 */
import { isEventSchemaError, type EventStore, type EventSubscription, type StoredEvent } from '@strata/eventlog';
import { ErrorCode, StrataError } from '@strata/errors';
import { extractTrace, injectTrace, withSpanSync, type Logger } from '@strata/runtime';
import { emptyQuarantine, mapBounded, quarantine, type QuarantineRecord } from '@strata/service-kit';
import { diffMaps } from '../core/diff.js';
import { applyEvent, emptyModel, toModelEvent, type Model } from '../core/model.js';
import { positionValue, ViewPositions, type HostPosition } from '../core/positions.js';
import { HostViews, type ViewUpdate } from '../core/views.js';
import { hostviewKey, type RealisedKind } from '@strata/contracts';
import { SeqWaiters } from '@strata/service-kit';
import type { BucketOp, KvPublisher } from './publisher.js';

export interface ProjectionOptions {
  store: EventStore;
  publisher: KvPublisher;
  /** Which hosts this instance owns (its partition). */
  owns: (hostId: string) => boolean;
  logger: Logger;
  /** After each applied event (of the model's inputs; others are skipped); `update` is undefined during the start-up replay. */
  onApplied?: (event: StoredEvent, update: ViewUpdate | undefined) => void;
  /** How long stop() waits for queued writes to be acknowledged. */
  stopFlushTimeoutMs?: number;
  /** Buckets read at once by the start-up reconcile (default 16). */
  readConcurrency?: number;
}

export interface StartResult {
  /** Events replayed before the views were computed. */
  replayed: number;
  /** Writes the reconcile made. */
  puts: number;
  deletes: number;
  /** Owned hosts' buckets that existed and were read. */
  buckets: number;
}

export class HostviewProjection {
  readonly model: Model = emptyModel();
  /**
   * Events this reader could not decode: skipped by the model (views stay as
   * the rest of the log makes them), recorded, counted and reported degraded.
   * Rebuilt by the start-up replay (the service keeps no snapshot).
   */
  readonly quarantine: QuarantineRecord = emptyQuarantine();
  readonly views: HostViews;
  /** Per key and per owned host, the position of the change that last wrote it (the status service's question). */
  readonly positions = new ViewPositions();
  /** Advanced once reconciled: a positions query waits here for its minSeq. */
  private readonly reached = new SeqWaiters();
  private readonly reconciling: Promise<void>;
  private settleReconciled!: (err?: Error) => void;
  private live = false;
  private reconciled = false;
  private failure: Error | undefined;
  private subscription: EventSubscription | undefined;
  private loop: Promise<void> | undefined;
  private replayedCount = 0;
  private abandoned = false;
  private readonly caughtUp: Promise<void>;
  private settleCaughtUp!: (err?: Error) => void;

  constructor(private readonly options: ProjectionOptions) {
    this.views = new HostViews(options.owns);
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.settleCaughtUp = (err) => (err ? reject(err) : resolve());
    });
    this.caughtUp.catch(() => undefined);
    this.reconciling = new Promise<void>((resolve, reject) => {
      this.settleReconciled = (err) => (err ? reject(err) : resolve());
    });
    this.reconciling.catch(() => undefined);
  }

  /** Replay, compute, reconcile; resolves when the bucket holds the derivation of the log as of start-up. */
  async start(): Promise<StartResult> {
    const { store, publisher, owns } = this.options;
    this.throwIfAbandoned();
    const target = await store.lastSeq();
    publisher.pause();
    const sub = store.subscribe({ fromSeq: 1 });
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
      const unavailable = new StrataError(ErrorCode.Unavailable, 'host view projection stopped');
      this.reached.fail(unavailable);
      this.settleReconciled(unavailable);
    });
    await this.caughtUp;

    // Events keep arriving meanwhile: they update the views and queue writes, which the reconcile supersedes.
    const existing = (await publisher.bucketHosts()).filter(owns);
    const actual = new Map<string, Map<string, string>>();
    await mapBounded(existing, this.options.readConcurrency ?? 16, async (host) => {
      actual.set(host, await publisher.readAll(host));
    });
    // From here to replacePending nothing awaits, so no event falls between the views diffed and the queue replaced.
    this.throwIfAbandoned();
    const ops: BucketOp[] = [];
    const none: ReadonlyMap<string, string> = new Map();
    const at = this.model.seq;
    this.positions.reset(this.views, at);
    for (const host of new Set([...existing, ...this.views.hosts()])) {
      // A host with keys gets its position as of this reconcile (written after them); one with none, none.
      const keys = this.views.keysOf(host);
      const desired = keys.size === 0 ? keys : new Map([...keys, [hostviewKey.position(host), positionValue(at)]]);
      for (const op of diffMaps(actual.get(host) ?? none, desired)) ops.push({ ...op, host });
    }
    publisher.replacePending(ops);
    publisher.resume();
    await publisher.idle();
    this.reconciled = true;
    this.reached.advance(this.model.seq);
    this.settleReconciled();
    const puts = ops.filter((o) => o.op === 'put').length;
    return { replayed: this.replayedCount, puts, deletes: ops.length - puts, buckets: existing.length };
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

  /** Resolves once reconciled with the model at `seq` or later; rejects UNAVAILABLE after `timeoutMs` (or if the projection failed). */
  async waitFor(seq: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (!this.reconciled) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StrataError(ErrorCode.Unavailable, `host views not reconciled yet after ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([this.reconciling, late]).finally(() => clearTimeout(timer));
    }
    await this.reached.waitFor(seq, Math.max(0, deadline - Date.now()));
  }

  /** Every owned host with keys and its latest change position. */
  hostPositions(): HostPosition[] {
    return this.positions.hostPositions();
  }

  /** The owned hosts holding a resource, with the position of its latest change there. */
  holders(kind: RealisedKind, id: string): HostPosition[] {
    return this.positions.holders(kind, id);
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

  /**
   * The partition's lease is lost: stop following the log and drop every
   * queued write, at once (the batch in flight completes). A start-up under
   * way fails instead of writing its reconcile.
   */
  async abandon(): Promise<void> {
    this.abandoned = true;
    this.options.publisher.pause();
    await this.subscription?.stop();
    await this.loop;
    await this.options.publisher.close();
  }

  private throwIfAbandoned(): void {
    if (this.abandoned) throw new StrataError(ErrorCode.Unavailable, 'host view projection abandoned (its partition lease was lost)');
  }

  private apply(stored: StoredEvent, target: number): void {
    if (stored.seq <= this.model.seq) return;
    let event: ReturnType<typeof toModelEvent>;
    try {
      event = toModelEvent(stored);
    } catch (err) {
      if (!isEventSchemaError(err)) throw err;
      const q = quarantine(this.quarantine, stored, err);
      this.options.logger.error({ seq: q.seq, subject: q.subject, type: q.type, version: q.version, reason: q.reason, error: q.error }, 'event quarantined: this version cannot decode it');
      event = undefined;
    }
    if (event === undefined) {
      // Another context's event (or a quarantined one): nothing here can use it, but it may be the last one of the start-up replay.
      this.model.seq = stored.seq;
      if (this.reconciled) this.reached.advance(stored.seq);
      if (!this.live && stored.seq >= target) this.goLive();
      return;
    }
    if (this.live) {
      // A span per live event, in the trace of the command that wrote it; the positions it queues carry it on to the agents.
      const attributes = { 'strata.event.seq': stored.seq, 'strata.event.type': stored.type };
      const update = withSpanSync('hostview derive', attributes, extractTrace(stored.trace), (span, otel) => {
        const update = this.views.apply(this.model, applyEvent(this.model, event));
        const positions = this.positions.record(update.ops, stored.seq, (host) => this.views.keysOf(host).size > 0);
        span.setAttributes({ 'strata.hosts': positions.length, 'strata.keys': update.ops.length });
        const trace = injectTrace(otel);
        // Queued after the keys they cover: the publisher holds each until those are acknowledged.
        this.options.publisher.enqueue([...update.ops, ...positions.map((p) => (trace && p.op === 'put' ? { ...p, trace } : p))]);
        return update;
      });
      if (this.reconciled) this.reached.advance(stored.seq);
      this.options.onApplied?.(stored, update);
      return;
    }
    applyEvent(this.model, event);
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
