/**
 * The host view from the host's own JetStream KV bucket,
 * `strata-hostview-<hostId>` (hostviewBucket): watch `<hostId>.>`, which
 * delivers every current key, then each change. The agent's NATS user may
 * read this bucket and no other.
 *
 * The bucket is created by hostview when the host first gets a key (its
 * registration); until then the watch fails ("stream not found") and is
 * retried, and the agent has no view. The agent only binds: it never
 * creates a bucket.
 *
 * `current()` is null until the initial snapshot is complete, so the agent
 * writes nothing from a half-loaded view (it would delete what is not loaded
 * yet). After a reconnect (or if the watch ends) the watch starts again from
 * scratch into a fresh store; the previous complete view stays current until
 * the new one is complete, then replaces it.
 *
 * Fail static (docs/architecture.md "Fail static"): a watch's view is
 * adopted only when it is the control plane's word on the host
 * (`HostViewStore.authoritative`: it has its position, or it was emptied by
 * hostview); a bucket that holds nothing, or keys without a position, is
 * held back until it is, and the previous view stays current meanwhile. The
 * watcher says whether its view is live (`feed()`): not while NATS is
 * disconnected, the watch fails (e.g. the bucket is gone) or a fresh view is
 * held back; the agent then keeps the kernel as last applied and reports
 * itself degraded.
 */
import { hostviewBucket } from '@strata/contracts';
import type { KvEntry, NatsConnection, QueuedIterator } from 'nats';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { AgentLogger } from '../logger.js';
import type { CurrentView } from './current.js';
import { HostViewStore } from './store.js';

export interface HostViewWatcherOptions {
  nc: NatsConnection;
  hostId: string;
  logger: AgentLogger;
  /**
   * Called after every change once the view is complete (and once when it
   * first becomes complete). `whole`: the view's position moved, so a write
   * of hostview is complete (its position key comes after the keys it
   * covers); true when the view first becomes complete.
   */
  onChange: (whole: boolean) => void;
  /** Default: the host's bucket, hostviewBucket(hostId). */
  bucket?: string;
  /** Delay before watching again after a failure (default 1 s). */
  retryMs?: number;
  /** Called whenever the feed's state changes (live or not, and why). */
  onFeed?: (feed: ViewFeed) => void;
  now?: () => number;
  /** Every entry as it arrives, before it is applied (what this host receives: the scale simulation counts it). */
  onEntry?: (e: KvEntry) => void;
}

/** Whether the view the agent holds is fed live by its bucket. */
export interface ViewFeed {
  /** A complete view is adopted and its watch is running on a connected NATS. */
  live: boolean;
  /** Why it is not live (null when live). */
  reason: string | null;
  /** When it stopped being live (ms since the epoch; null when live). */
  since: number | null;
}

export class HostViewWatcher {
  private store: HostViewStore | null = null;
  private iter: QueuedIterator<KvEntry> | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Set by rewatch(): the watch ended on purpose, watch again at once. */
  private rewatching = false;
  /** Completed watches (1 after the first snapshot; more after re-watches). */
  syncs = 0;
  private state: ViewFeed;

  constructor(private readonly o: HostViewWatcherOptions) {
    this.state = { live: false, reason: 'no host view yet', since: this.now() };
  }

  /** Whether the view is live, and if not, why and since when. */
  feed(): ViewFeed {
    return { ...this.state };
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  private setFeed(live: boolean, reason: string | null): void {
    const was = this.state;
    if (was.live === live && was.reason === reason) return;
    this.state = live ? { live, reason: null, since: null } : { live, reason, since: was.live ? this.now() : was.since };
    const held = this.store;
    if (!live && was.live) {
      this.o.logger.warn(
        { reason, revision: held?.revision, viewPosition: held?.viewPosition },
        'control plane lost: failing static (the kernel keeps the last applied view; retrying)',
      );
    } else if (live && !was.live && held && this.syncs > 1) {
      this.o.logger.info({ seconds: (this.now() - (was.since ?? this.now())) / 1000, revision: held.revision, viewPosition: held.viewPosition }, 'control plane back: host view live again; converging by diff');
    } else if (!live) {
      this.o.logger.debug({ reason }, 'host view not live');
    }
    this.o.onFeed?.(this.feed());
  }

  /** The view (a snapshot made when `view` is read), its revision and its change journal; null until in sync. */
  current(): CurrentView | null {
    const store = this.store;
    if (!store) return null;
    const epoch = this.syncs;
    return {
      get view(): HostViewSnapshot {
        return store.snapshot();
      },
      revision: store.revision,
      get viewPosition(): number | null {
        return store.viewPosition;
      },
      get viewTrace() {
        return store.viewTrace;
      },
      journal: {
        epoch,
        get position(): number {
          return store.position;
        },
        changesSince: (from) => store.changesSince(from),
        trim: (upTo) => store.trim(upTo),
      },
    };
  }

  start(): void {
    this.stopped = false;
    this.loop = this.run();
    void this.watchStatus().catch((err: unknown) => this.o.logger.warn({ err }, "NATS status watch ended"));
  }

  /** Drop the current watch and start again from scratch (also done on every reconnect). */
  rewatch(): void {
    this.rewatching = true;
    this.wake?.();
    this.iter?.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.iter?.stop();
    this.wake?.();
    await this.loop;
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.o.nc.status()) {
      if (this.stopped) break;
      if (s.type === 'disconnect') this.setFeed(false, 'NATS disconnected');
      else if (s.type === 'reconnect') {
        this.o.logger.info({}, 'NATS reconnected: watching the host view again from scratch');
        this.setFeed(false, 'NATS reconnected: watching the host view again');
        this.rewatch();
      }
    }
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (!this.stopped) {
      this.rewatching = false;
      try {
        await this.watchOnce();
        lastError = '';
        if (!this.stopped && !this.rewatching) this.setFeed(false, 'host view watch ended');
      } catch (err) {
        // The same failure over and over (e.g. the bucket does not exist yet) is logged once.
        const message = err instanceof Error ? err.message : String(err);
        if (!this.stopped && message !== lastError) this.o.logger.warn({ err }, 'host view watch failed; retrying');
        else if (!this.stopped) this.o.logger.debug({ err: message }, 'host view watch failed again');
        lastError = message;
        if (!this.stopped) this.setFeed(false, `host view watch failed: ${message}`);
      }
      if (!this.stopped && !this.rewatching) await this.sleep(this.o.retryMs ?? 1_000);
    }
  }

  private async watchOnce(): Promise<void> {
    const js = this.o.nc.jetstream();
    const kv = await js.views.kv(this.o.bucket ?? hostviewBucket(this.o.hostId), { bindOnly: true });
    const store = new HostViewStore(this.o.hostId);
    let iter: QueuedIterator<KvEntry> | undefined;
    let applied = 0;
    // The watch is complete once `syncAt` entries are applied. initializedFn may run before
    // watch() returns (everything already queued, not yet applied) or in order during iteration.
    let syncAt: number | null = null;
    let complete = false;
    let heldBack = false;
    const maybeComplete = (): void => {
      if (complete || syncAt === null || applied < syncAt) return;
      // Not the control plane's word (an empty bucket, keys without their position): keep the last view and wait.
      if (!store.authoritative) {
        if (!heldBack) this.o.logger.warn({ entries: applied, revision: store.revision }, 'host view held back: its bucket has no position for this host (empty, re-created or being rewritten); keeping the kernel as it is');
        heldBack = true;
        this.setFeed(false, 'host view has no position (empty, re-created or being rewritten)');
        return;
      }
      complete = true;
      this.store = store;
      this.syncs++;
      this.o.logger.info({ objects: applied, revision: store.revision, viewPosition: store.viewPosition }, 'host view in sync');
      this.setFeed(true, null);
      this.o.onChange(true);
    };
    iter = await kv.watch({
      key: `${this.o.hostId}.>`,
      initializedFn: () => {
        syncAt = iter ? applied : -1;
        maybeComplete();
      },
    });
    this.iter = iter;
    if (this.stopped) iter.stop();
    if (syncAt === -1) syncAt = iter.getReceived();
    maybeComplete();
    for await (const e of iter) {
      this.o.onEntry?.(e);
      const position = store.viewPosition;
      try {
        store.apply(e);
      } catch (err) {
        this.o.logger.warn({ err, key: e.key }, 'ignored an invalid host view entry');
      }
      applied++;
      // The position key comes after the keys of hostview's write it covers: when it moves, that write is whole.
      if (complete) this.o.onChange(store.viewPosition !== position);
      else maybeComplete();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
}
