/**
 * Writes the host views to the KV buckets, one per host
 * (`strata-hostview-<hostId>`, see libs/contracts/src/hostview.ts).
 *
 * A write goes to the bucket of the host its key names (or of the host the
 * caller gives: the start-up reconcile deletes stray keys where it found
 * them). A host's bucket is opened on its first write, created with history 1
 * if missing, and the handle kept; a failed write drops the handle, so a
 * bucket deleted behind our back is created again by the retry where
 * hostview's user may create streams (a server without users); in production
 * and in every test only the operator may (docs/architecture.md, "NATS security"): writes to a
 * missing bucket then fail, are logged and retried until it is provisioned.
 *
 * Writes are queued per key (a newer write of a key replaces a queued older
 * one: add-then-remove costs one delete, not two writes) and flushed in
 * batches: a batch holds each key at most once and is written with bounded
 * concurrency, every write awaiting its JetStream ack; the next batch starts
 * only when the previous one is acknowledged, so writes of one key never
 * overtake each other. A failed write is retried with backoff unless a newer
 * write of its key is queued by then. Within a batch, publishes go out in
 * agent-friendly order (containers before their contents when adding, after
 * them when removing; see orderForAgents).
 *
 * A host's position key (`<h>.position.view`, "this host's keys reflect the
 * log up to S") is held back: it is written only once every other write of
 * that host's bucket queued before it is acknowledged, so an agent that
 * reads position S has every key it covers. A failed write holds it until
 * its retry (or a newer write of its key) is acknowledged. Positions are
 * kept in order per host and the newest one whose writes are all through is
 * written, so a host written continuously still gets its position moved
 * at every batch, never starved by the writes queued after it.
 *
 * `mayWrite` (a partition's lease, app/leases.ts) is asked right before each
 * write is handed to the connection, with no await between the answer and
 * the send: a write it refuses is not sent and is retried like a failed one
 * (the lease renewed late: it goes out then; the lease lost: the publisher
 * is closed first). A process frozen past its lease (SIGSTOP, a VM pause)
 * that wakes up with events waiting on its socket would otherwise write them
 * before its lease timer fires, over the new holder's views.
 */
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { hostOfHostviewStream, hostviewBucket, hostviewBucketOptions } from '@strata/contracts';
import { natsReplicas } from '@strata/eventlog';
import { extractTrace, injectTrace, withSpan, type Logger, type TraceContext } from '@strata/runtime';
import { hostOfKey, kindOfKey } from '../core/derive.js';
import { orderForAgents, type KvOp } from '../core/diff.js';
import { tracedPositionValue } from '../core/positions.js';

/** What the publisher needs of one bucket. */
export type HostBucket = Pick<KV, 'put' | 'delete' | 'watch'>;

/** The per-host buckets. */
export interface HostBuckets {
  /** The host's bucket, created (history 1) if it does not exist. */
  open(hostId: string): Promise<HostBucket>;
  /** Hosts that have a bucket now. */
  hosts(): Promise<string[]>;
}

/** Host-view buckets in JetStream. */
export class JetStreamHostBuckets implements HostBuckets {
  private constructor(private readonly nc: NatsConnection) {}

  static async connect(nc: NatsConnection): Promise<JetStreamHostBuckets> {
    await nc.jetstreamManager(); // fails early if JetStream is unavailable
    return new JetStreamHostBuckets(nc);
  }

  open(hostId: string): Promise<HostBucket> {
    // Agents need the current value only; the event log keeps the past. In production the operator
    // has created the bucket (hostview's user may not create streams): this only binds to it.
    return this.nc.jetstream().views.kv(hostviewBucket(hostId), hostviewBucketOptions(natsReplicas()));
  }

  async hosts(): Promise<string[]> {
    const jsm = await this.nc.jetstreamManager();
    const hosts: string[] = [];
    for await (const name of jsm.streams.names()) {
      const host = hostOfHostviewStream(name);
      if (host !== undefined) hosts.push(host);
    }
    return hosts;
  }
}

/**
 * A write; `host` names the bucket when it is not the host of the key.
 * `trace` (a position's put): the trace the write continues; the value
 * written carries the publish span's context (core/positions.ts).
 */
export type BucketOp = KvOp & { host?: string; trace?: TraceContext };

/**
 * A queued write with its bucket resolved; `since` is when the oldest write
 * of its key still unacknowledged was queued (a newer write of a key replaces
 * an older one in the queue, and a position queued between them waits for it).
 */
type Write = KvOp & { host: string; since: number; trace?: TraceContext };

/** A queued position write of a host, with when it was queued. */
type PositionWrite = Write & { queued: number };

/** How many positions of one host are kept waiting at most (dropping one only delays the position). */
const MAX_WAITING_POSITIONS = 32;

export interface KvPublisherOptions {
  /** Writes in flight at once, each awaiting its ack. */
  concurrency: number;
  /** First retry delay after a failed batch; doubles up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Called once per acknowledged write (metrics). */
  onWritten?: (op: KvOp) => void;
  /** Whether this instance may write now (its partition lease is valid at this instant); default always. */
  mayWrite?: () => boolean;
  logger?: Logger;
}

/** A write `mayWrite` held back: not sent, retried. */
export class WriteNotAllowedError extends Error {
  constructor() {
    super('partition lease not valid at this instant: host view write held back');
    this.name = 'WriteNotAllowedError';
  }
}

export const DEFAULT_PUBLISHER_OPTIONS: KvPublisherOptions = { concurrency: 64, retryDelayMs: 100, maxRetryDelayMs: 5_000 };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

const slot = (w: Write): string => `${w.host} ${w.key}`;

export class KvPublisher {
  /** Queued writes by bucket and key. */
  private pending = new Map<string, Write>();
  /** Queued position writes by bucket and key (a stray position key found in another host's bucket is its own slot), oldest first. */
  private positions = new Map<string, PositionWrite[]>();
  /** Orders every queued write. */
  private clock = 0;
  private readonly opened = new Map<string, HostBucket>();
  private readonly opening = new Map<string, Promise<HostBucket>>();
  private flushing: Promise<void> | undefined;
  private paused = false;
  private closed = false;
  private failing = false;
  private idleWaiters: Array<() => void> = [];
  private wakeRetry: (() => void) | undefined;
  private readonly options: KvPublisherOptions;

  constructor(
    readonly buckets: HostBuckets,
    options: Partial<KvPublisherOptions> = {},
  ) {
    this.options = { ...DEFAULT_PUBLISHER_OPTIONS, ...options };
  }

  /** A publisher writing to the host-view buckets of this connection's JetStream. */
  static async open(nc: NatsConnection, options: Partial<KvPublisherOptions> = {}): Promise<KvPublisher> {
    return new KvPublisher(await JetStreamHostBuckets.connect(nc), options);
  }

  /** Queue writes; a queued write of the same key to the same bucket is replaced. */
  enqueue(ops: Iterable<BucketOp>): void {
    for (const o of ops) {
      const queued = ++this.clock;
      const host = o.host ?? hostOfKey(o.key);
      if (kindOfKey(o.key) === 'position') {
        this.queuePosition({ ...o, host, since: queued, queued });
        continue;
      }
      const s = `${host} ${o.key}`;
      this.pending.set(s, { ...o, host, since: this.pending.get(s)?.since ?? queued });
    }
    this.schedule();
  }

  /** Drop whatever is queued and queue `ops` instead (the start-up reconcile, which supersedes it). */
  replacePending(ops: Iterable<BucketOp>): void {
    this.pending = new Map();
    this.positions = new Map();
    this.enqueue(ops);
  }

  /** Hold writes (they keep queueing) until resume(); a batch already in flight completes. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  /** Writes queued and not yet acknowledged. */
  get backlog(): number {
    let n = this.pending.size;
    for (const list of this.positions.values()) n += list.length;
    return n;
  }

  /** False while writes are failing (the bucket is unreachable); they are being retried. */
  get healthy(): boolean {
    return !this.failing;
  }

  /** Resolves when nothing is queued and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop writing: the batch in flight completes, queued writes are dropped (the next start-up reconcile repairs). */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeRetry?.();
    await this.flushing;
    this.pending = new Map();
    this.positions = new Map();
    this.settleIdle();
  }

  /** Hosts that have a bucket now. */
  bucketHosts(): Promise<string[]> {
    return this.buckets.hosts();
  }

  /**
   * A host's bucket's current content: key → value of every live key
   * (deleted keys are absent), whatever host the key names. Reads the last
   * value of every key with one ordered watch.
   */
  async readAll(hostId: string): Promise<Map<string, string>> {
    const kv = await this.bucket(hostId);
    const out = new Map<string, string>();
    let initialized = false;
    let watch: QueuedIterator<KvEntry> | undefined;
    watch = await kv.watch({
      key: '>',
      // Called in stream order once the last value of every key was delivered: the end of the snapshot.
      initializedFn: () => {
        initialized = true;
        watch?.stop();
      },
    });
    if (initialized) {
      // Empty bucket: the watch reported the end of its snapshot before it was returned.
      watch.stop();
      return out;
    }
    for await (const e of watch) {
      if (e.operation === 'PUT') out.set(e.key, utf8Decoder.decode(e.value));
      else out.delete(e.key);
    }
    return out;
  }

  /** The host's bucket: the kept handle (no await, so publishes keep their order), else opened once for all callers. */
  private bucket(hostId: string): HostBucket | Promise<HostBucket> {
    const kv = this.opened.get(hostId);
    if (kv !== undefined) return kv;
    let opening = this.opening.get(hostId);
    if (opening === undefined) {
      opening = this.buckets.open(hostId).then(
        (b) => {
          this.opening.delete(hostId);
          this.opened.set(hostId, b);
          return b;
        },
        (err: unknown) => {
          this.opening.delete(hostId);
          throw err;
        },
      );
      this.opening.set(hostId, opening);
    }
    return opening;
  }

  /** Write now with bounded concurrency; returns the writes that failed. */
  private async write(ops: readonly Write[]): Promise<Write[]> {
    const failed: Write[] = [];
    let firstError: unknown;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ops.length) {
        const o = ops[next++]!;
        try {
          const b = this.bucket(o.host);
          const kv = b instanceof Promise ? await b : b;
          // Checked here, with no await before the send below: not at batch start, which may be long before.
          if (this.options.mayWrite?.() === false) throw new WriteNotAllowedError();
          if (o.op === 'delete') await kv.delete(o.key);
          else if (o.trace === undefined) await kv.put(o.key, utf8.encode(o.value));
          else await this.putTraced(kv, o.host, o.key, o.value, o.trace);
          this.options.onWritten?.(o);
        } catch (err) {
          // Open the bucket again for the retry: it may have been deleted (the retry then creates it).
          if (!(err instanceof WriteNotAllowedError)) this.opened.delete(o.host);
          failed.push(o);
          firstError ??= err;
        }
      }
    };
    // Workers start in order, so publishes leave in `ops` order; only the acks are awaited concurrently.
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, ops.length) }, worker));
    if (failed.length > 0) this.options.logger?.warn({ err: firstError, failed: failed.length, of: ops.length }, 'host view writes failed; retrying');
    return failed;
  }

  /** A position's write as a span of the trace it continues; the value carries the span, so the agent's apply is its child. */
  private putTraced(kv: HostBucket, host: string, key: string, value: string, trace: TraceContext): Promise<number> {
    return withSpan('hostview publish', { 'strata.host': host, 'strata.key': key }, extractTrace(trace), (_, otel) =>
      kv.put(key, utf8.encode(tracedPositionValue(value, injectTrace(otel) ?? trace))),
    );
  }

  private isIdle(): boolean {
    return this.flushing === undefined && (this.backlog === 0 || this.closed);
  }

  private queuePosition(p: PositionWrite): void {
    let list = this.positions.get(slot(p));
    if (list === undefined) this.positions.set(slot(p), (list = []));
    const at = list.findLastIndex((q) => q.queued < p.queued) + 1;
    list.splice(at, 0, p);
    // Bounded while a host's writes keep failing: drop the one before the newest (the oldest stay, as they come due first).
    if (list.length > MAX_WAITING_POSITIONS) list.splice(list.length - 2, 1);
  }

  /**
   * The next batch: every queued write, and per host the newest position
   * queued before every write of that host still queued (each of those is in
   * this batch or failed before, so is not acknowledged yet); older
   * positions of that host are superseded by it and dropped.
   */
  private takeBatch(): Write[] {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const oldest = new Map<string, number>();
    for (const w of batch) oldest.set(w.host, Math.min(oldest.get(w.host) ?? Infinity, w.since));
    for (const [s, list] of this.positions) {
      const host = list[0]!.host;
      const due = list.filter((p) => p.queued < (oldest.get(host) ?? Infinity)).length;
      if (due === 0) continue;
      batch.push(list[due - 1]!);
      list.splice(0, due);
      if (list.length === 0) this.positions.delete(s);
    }
    return orderForAgents(batch);
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.flushing === undefined && !this.paused && !this.closed && this.backlog > 0) {
      this.flushing = this.run().finally(() => {
        this.flushing = undefined;
        this.schedule();
      });
    }
    this.settleIdle();
  }

  private async run(): Promise<void> {
    let delay = this.options.retryDelayMs;
    while (!this.paused && !this.closed && this.backlog > 0) {
      const batch = this.takeBatch();
      const failed = await this.write(batch);
      if (failed.length === 0) {
        this.failing = false;
        delay = this.options.retryDelayMs;
        continue;
      }
      this.failing = true;
      // A newer write of the same key queued meanwhile wins over the failed one, and waits for what it waited for.
      for (const o of failed) {
        if ('queued' in o) {
          this.queuePosition(o as PositionWrite);
          continue;
        }
        const newer = this.pending.get(slot(o));
        this.pending.set(slot(o), newer ? { ...newer, since: Math.min(newer.since, o.since) } : o);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeRetry = undefined;
      delay = Math.min(delay * 2, this.options.maxRetryDelayMs);
    }
  }
}
