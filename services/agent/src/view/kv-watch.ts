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
  /** Called after every change once the view is complete (and once when it first becomes complete). */
  onChange: () => void;
  /** Default: the host's bucket, hostviewBucket(hostId). */
  bucket?: string;
  /** Delay before watching again after a failure (default 1 s). */
  retryMs?: number;
  /** Every entry as it arrives, before it is applied (what this host receives: the scale simulation counts it). */
  onEntry?: (e: KvEntry) => void;
}

export class HostViewWatcher {
  private store: HostViewStore | null = null;
  private iter: QueuedIterator<KvEntry> | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Completed watches (1 after the first snapshot; more after re-watches). */
  syncs = 0;

  constructor(private readonly o: HostViewWatcherOptions) {}

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
      if (s.type === 'reconnect') {
        this.o.logger.info({}, 'NATS reconnected: watching the host view again from scratch');
        this.rewatch();
      }
    }
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (!this.stopped) {
      try {
        await this.watchOnce();
        lastError = '';
      } catch (err) {
        // The same failure over and over (e.g. the bucket does not exist yet) is logged once.
        const message = err instanceof Error ? err.message : String(err);
        if (!this.stopped && message !== lastError) this.o.logger.warn({ err }, 'host view watch failed; retrying');
        else if (!this.stopped) this.o.logger.debug({ err: message }, 'host view watch failed again');
        lastError = message;
      }
      if (!this.stopped) await this.sleep(this.o.retryMs ?? 1_000);
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
    const maybeComplete = (): void => {
      if (complete || syncAt === null || applied < syncAt) return;
      complete = true;
      this.store = store;
      this.syncs++;
      this.o.logger.info({ objects: applied, revision: store.revision }, 'host view in sync');
      this.o.onChange();
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
      try {
        store.apply(e);
      } catch (err) {
        this.o.logger.warn({ err, key: e.key }, 'ignored an invalid host view entry');
      }
      applied++;
      if (complete) this.o.onChange();
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
