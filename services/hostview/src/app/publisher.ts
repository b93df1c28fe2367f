/**
 * Writes the host views to the KV bucket `strata-hostview`.
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
 */
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { HOSTVIEW_BUCKET } from '@strata/contracts';
import type { Logger } from '@strata/runtime';
import { orderForAgents, type KvOp } from '../core/diff.js';

export interface KvPublisherOptions {
  /** Writes in flight at once, each awaiting its ack. */
  concurrency: number;
  /** First retry delay after a failed batch; doubles up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Called once per acknowledged write (metrics). */
  onWritten?: (op: KvOp) => void;
  logger?: Logger;
}

export const DEFAULT_PUBLISHER_OPTIONS: KvPublisherOptions = { concurrency: 64, retryDelayMs: 100, maxRetryDelayMs: 5_000 };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class KvPublisher {
  private pending = new Map<string, KvOp>();
  private flushing: Promise<void> | undefined;
  private paused = false;
  private closed = false;
  private failing = false;
  private idleWaiters: Array<() => void> = [];
  private wakeRetry: (() => void) | undefined;
  private readonly options: KvPublisherOptions;

  constructor(
    readonly kv: KV,
    options: Partial<KvPublisherOptions> = {},
  ) {
    this.options = { ...DEFAULT_PUBLISHER_OPTIONS, ...options };
  }

  /** Bind to the bucket, creating it (history 1: agents need the current value, the log keeps the past) if missing. */
  static async open(nc: NatsConnection, options: Partial<KvPublisherOptions> = {}): Promise<KvPublisher> {
    const kv = await nc.jetstream().views.kv(HOSTVIEW_BUCKET, { history: 1 });
    return new KvPublisher(kv, options);
  }

  /** Queue writes; a queued write of the same key is replaced. */
  enqueue(ops: Iterable<KvOp>): void {
    for (const o of ops) this.pending.set(o.key, o);
    this.schedule();
  }

  /** Drop whatever is queued and queue `ops` instead (the start-up reconcile, which supersedes it). */
  replacePending(ops: Iterable<KvOp>): void {
    this.pending = new Map();
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
    return this.pending.size;
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
    this.settleIdle();
  }

  /**
   * The bucket's current content: key → value of every live key that
   * `keep` accepts (deleted keys are absent). Reads the last value of every
   * key with one ordered watch.
   */
  async readAll(keep: (key: string) => boolean = () => true): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let initialized = false;
    let watch: QueuedIterator<KvEntry> | undefined;
    watch = await this.kv.watch({
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
      if (!keep(e.key)) continue;
      if (e.operation === 'PUT') out.set(e.key, utf8Decoder.decode(e.value));
      else out.delete(e.key);
    }
    return out;
  }

  /** Write ops now with bounded concurrency; returns those that failed. */
  async write(ops: readonly KvOp[]): Promise<KvOp[]> {
    const failed: KvOp[] = [];
    let firstError: unknown;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ops.length) {
        const o = ops[next++]!;
        try {
          if (o.op === 'put') await this.kv.put(o.key, utf8.encode(o.value));
          else await this.kv.delete(o.key);
          this.options.onWritten?.(o);
        } catch (err) {
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

  private isIdle(): boolean {
    return this.flushing === undefined && (this.pending.size === 0 || this.closed);
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.flushing === undefined && !this.paused && !this.closed && this.pending.size > 0) {
      this.flushing = this.run().finally(() => {
        this.flushing = undefined;
        this.schedule();
      });
    }
    this.settleIdle();
  }

  private async run(): Promise<void> {
    let delay = this.options.retryDelayMs;
    while (!this.paused && !this.closed && this.pending.size > 0) {
      const batch = orderForAgents([...this.pending.values()]);
      this.pending = new Map();
      const failed = await this.write(batch);
      if (failed.length === 0) {
        this.failing = false;
        delay = this.options.retryDelayMs;
        continue;
      }
      this.failing = true;
      // A newer write of the same key queued meanwhile wins over the failed one.
      for (const o of failed) if (!this.pending.has(o.key)) this.pending.set(o.key, o);
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
