import { ConsumerEvents, DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg } from 'nats';
import { JS_ERR_STREAM_NOT_FOUND, jsErrCode } from './stream-config.js';

/**
 * Reads a stream in order through a nats.js ordered consumer, by bounded
 * `fetch`es drained into our own queue.
 *
 * Why not `consume()`: it refills its pull as soon as messages *arrive*, not
 * when the caller has processed them, so a slow fold over a million-event
 * replay would buffer the whole stream in memory. Here at most ~2 batches
 * are in memory, and the next fetch is issued while the caller still works
 * on the previous one.
 *
 * Why drain each fetch eagerly instead of yielding from it: a fetch closes
 * its iterator on a client timer (expires × 1.05) and drops what the caller
 * has not taken yet, while the ordered consumer's cursor has already moved
 * past those messages. Draining within microtasks leaves the timer nothing
 * to drop.
 *
 * Why history fetches never wait for their expiry: every message carries
 * the consumer's remaining `pending` count, so a fetch asks for at most what
 * exists and completes as soon as it is delivered.
 *
 * Why heartbeats: an ordered consumer is ephemeral, one replica, in memory,
 * on one server. When that server dies (or the server holding our pull
 * request), nats.js does not notice for a fetch: the reader would wait for
 * messages that never come, and everything waiting on it (a service's
 * read-your-writes) with it; measured on a three-node 2.9.10 cluster, a
 * projection stalled for minutes after a kill -9 of one node. Every fetch
 * asks the server for idle heartbeats; two missed in a row end the fetch and
 * the reader goes on with a new consumer from the sequence after the last
 * message it received, on a server that is up.
 */
export interface OrderedReadOptions {
  stream: string;
  /** One subject filter (nats-server 2.9 consumers take a single filter). */
  filter?: string;
  /** First stream sequence (inclusive); default 1. */
  fromSeq?: number;
  /** Stop after this stream sequence; undefined = live, never stop on its own. */
  endSeq?: number;
  /** Messages per fetch. */
  batch?: number;
  /** How long a live fetch waits for new messages before it is re-issued (nats.js minimum: 1 s). */
  liveExpiresMs?: number;
}

const DEFAULT_BATCH = 2_000;
const HISTORY_EXPIRES_MS = 30_000;
/** The server's heartbeat while a pull waits; two missed = the consumer (or its server) is gone. */
const HEARTBEAT_MS = 1_000;

export class OrderedReader {
  private consumer: Consumer | undefined;
  private current: ConsumerMessages | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;
  /** Matching messages after the last one received, per the server; -1 before start(). */
  pending = -1;
  /** Stream sequence of the last message received (0: none yet). */
  private lastSeq = 0;

  // Hand-off between the fetch pump and the consumer of batches().
  private queue: JsMsg[] = [];
  private wakeReader: (() => void) | undefined;
  private wakePump: (() => void) | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: OrderedReadOptions,
  ) {}

  /** Create the server-side consumer; afterwards `pending` holds the number of matching messages. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.create();
    return this.starting;
  }

  /** An ordered consumer of the stream (filtered) from `fromSeq`; created on the server by its first info or fetch. */
  private orderedConsumer(fromSeq: number): Promise<Consumer> {
    return this.js.consumers.get(this.opts.stream, {
      ...(this.opts.filter ? { filterSubjects: this.opts.filter } : {}),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
    });
  }

  private async create(): Promise<void> {
    if (this.stopped) return;
    const consumer = await this.orderedConsumer(this.opts.fromSeq ?? 1);
    // info() creates the consumer now, so its num_pending counts from fromSeq.
    const info = await consumer.info();
    this.pending = info.num_pending;
    if (this.stopped) {
      // close() ran while we were creating it: don't leak the consumer.
      await consumer.delete().catch(() => undefined);
      return;
    }
    this.consumer = consumer;
  }

  /**
   * The messages in stream order, in chunks of whatever has arrived (one
   * await per chunk rather than per message keeps replay cheap); single use.
   * Ends after endSeq (bounded) or on close() (live).
   */
  async *batches(): AsyncGenerator<JsMsg[]> {
    const { endSeq } = this.opts;
    const batch = this.opts.batch ?? DEFAULT_BATCH;
    let pumpDone = false;
    let pumpError: unknown;
    let pump: Promise<void> | undefined;
    try {
      await this.start();
      const consumer = this.consumer;
      if (!consumer) return;
      pump = this.pump(consumer, batch)
        .then(
          () => void (pumpDone = true),
          (err: unknown) => {
            pumpError = err;
            pumpDone = true;
          },
        )
        .finally(() => this.signal('reader'));
      for (;;) {
        if (this.stopped) return;
        if (this.queue.length > 0) {
          const chunk = this.queue;
          this.queue = [];
          this.signal('pump');
          const last = chunk[chunk.length - 1]!;
          if (endSeq !== undefined && last.seq > endSeq) {
            yield chunk.filter((m) => m.seq <= endSeq);
            return;
          }
          yield chunk;
          if (endSeq !== undefined && last.seq === endSeq) return;
          continue;
        }
        if (pumpError !== undefined) throw pumpError;
        if (pumpDone) return;
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    } finally {
      await this.close();
      await pump;
    }
  }

  private async pump(first: Consumer, batch: number): Promise<void> {
    const { endSeq } = this.opts;
    let consumer = first;
    while (!this.stopped) {
      // Bounded reads end when nothing matching is left; live reads wait for more.
      if (endSeq !== undefined && this.pending === 0) return;
      if (this.queue.length > batch / 2) {
        await new Promise<void>((resolve) => (this.wakePump = resolve));
        continue;
      }
      const history = this.pending > 0;
      const expires = history ? HISTORY_EXPIRES_MS : Math.max(1_000, this.opts.liveExpiresMs ?? 30_000);
      const fetch = await consumer.fetch({
        max_messages: history ? Math.min(batch, this.pending) : batch,
        expires,
        idle_heartbeat: Math.min(HEARTBEAT_MS, expires / 2),
      });
      this.current = fetch;
      if (this.stopped) return;
      const lost = watchHeartbeats(fetch);
      for await (const m of fetch) {
        this.queue.push(m);
        this.pending = m.info.pending;
        this.lastSeq = m.seq;
        this.signal('reader');
        if (endSeq !== undefined && m.seq >= endSeq) return;
      }
      if (lost() && !this.stopped) consumer = await this.replace(consumer);
    }
  }

  /**
   * A new consumer from the sequence after the last message received. The
   * cluster may still be electing leaders (a stream info times out or finds
   * no responders): retried until it answers, unless the stream is gone.
   */
  private async replace(old: Consumer): Promise<Consumer> {
    // Usually the consumer died with its server; if only our pull request was lost (our own
    // connection moved to another server), delete it in passing rather than leave it to expire.
    void old.delete().catch(() => undefined);
    const from = this.lastSeq > 0 ? this.lastSeq + 1 : (this.opts.fromSeq ?? 1);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return old;
      try {
        const consumer = await this.orderedConsumer(from);
        this.consumer = consumer;
        return consumer;
      } catch (err) {
        if (jsErrCode(err) === JS_ERR_STREAM_NOT_FOUND) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5_000)));
      }
    }
  }

  private signal(who: 'reader' | 'pump'): void {
    const wake = who === 'reader' ? this.wakeReader : this.wakePump;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakePump = undefined;
    wake?.();
  }

  /** Stop fetching and delete the server-side consumer. Idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    this.signal('pump');
    this.signal('reader');
    const consumer = this.consumer;
    this.consumer = undefined;
    // Ordered consumers are ephemeral (they expire when idle anyway); deleting now frees them early.
    await consumer?.delete().catch(() => undefined);
  }
}

/** Stops `fetch` after two missed heartbeats in a row; answers whether it did. */
function watchHeartbeats(fetch: ConsumerMessages): () => boolean {
  let lost = false;
  void (async () => {
    for await (const s of await fetch.status()) {
      if (s.type === ConsumerEvents.HeartbeatsMissed && Number(s.data) >= 2) {
        lost = true;
        fetch.stop();
        return;
      }
    }
  })().catch(() => undefined);
  return () => lost;
}
