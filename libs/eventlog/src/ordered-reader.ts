import { randomBytes } from 'node:crypto';
import {
  AckPolicy,
  ConsumerEvents,
  DeliverPolicy,
  Events,
  nanos,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type QueuedIterator,
  type Status,
} from 'nats';
import { ErrorCode, StrataError } from '@strata/errors';
import { JS_ERR_STREAM_NOT_FOUND, jsErrCode } from './stream-config.js';

/**
 * Reads a stream in order through an ephemeral, in-memory, one-replica pull
 * consumer of our own, by bounded `fetch`es drained into our own queue.
 *
 * Why not `consume()`: it refills its pull as soon as messages *arrive*, not
 * when the caller has processed them, so a slow fold over a million-event
 * replay would buffer the whole stream in memory. Here at most ~2 batches
 * are in memory, and the next fetch is issued while the caller still works
 * on the previous one.
 *
 * Why drain each fetch eagerly instead of yielding from it: a fetch closes
 * its iterator on a client timer (expires × 1.05) and drops what the caller
 * has not taken yet, while the consumer's cursor has already moved past
 * those messages. Draining within microtasks leaves the timer nothing to
 * drop.
 *
 * Why history fetches never wait for their expiry: every message carries
 * the consumer's remaining `pending` count, so a fetch asks for at most what
 * exists and completes as soon as it is delivered.
 *
 * Why heartbeats: the consumer lives on one server. When that server dies
 * (or the server holding our pull request), a fetch does not notice: the
 * reader would wait for messages that never come, and everything waiting on
 * it (a service's read-your-writes) with it; measured on a three-node 2.9.10
 * cluster, a projection stalled for minutes after a kill -9 of one node.
 * Every fetch asks the server for idle heartbeats; two missed in a row end
 * the fetch.
 *
 * Why not nats.js' ordered consumer: it re-creates a lost consumer after a
 * back-off equal to the fetch's `expires` (30 s; one attempt per 30 s while
 * the cluster elects a leader), so a reader came back only seconds to
 * minutes after the cluster did: after a node's kill -9 a projection lagged
 * ("position not reached in time") and an events list timed out (30 s)
 * through the api. Its consumer creation also costs a stream info first.
 * nats.js also stops watching a fetch's heartbeats while the client is
 * disconnected and, after it reconnected, waits for a consumer info that
 * cannot come when the consumer's server is the one lost, backing off by
 * `expires` again: IPAM's projection sat 30 s after a graceful stop of its
 * server. So a reconnection of the client ends the fetch in flight here,
 * and the reader goes on from a new consumer.
 *
 * Here, whatever ends a consumer — heartbeats missed, the client
 * reconnected, a fetch or a creation
 * refused or timed out (the cluster electing a leader), the server deleting
 * the consumer (idle, or its server restarted), a gap in the delivery
 * sequence (messages lost in transit when our connection moved) — the
 * reader makes a new consumer from the sequence after the last message it
 * handed on, retrying every 0.25–2 s: a live read (a projection) never
 * gives up; a bounded read (a replay, an aggregate) gives up after
 * `GIVE_UP_MS` of failures with an UNAVAILABLE error its caller may retry.
 * Only a missing stream and a permissions violation end a read at once:
 * retrying cannot mend them.
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
  /** How long a live fetch waits for new messages before it is re-issued (nats.js minimum: 1 s; default LIVE_EXPIRES_MS). */
  liveExpiresMs?: number;
}

const DEFAULT_BATCH = 2_000;
const HISTORY_EXPIRES_MS = 30_000;
/**
 * A live fetch is re-issued this often when nothing arrives: whatever
 * stalls a pull unnoticed (a case the checks here do not know) lasts at
 * most this long; the cost is one small request per reader per period.
 */
const LIVE_EXPIRES_MS = 5_000;
/** The server's heartbeat while a pull waits; two missed = the consumer (or its server) is gone. */
const HEARTBEAT_MS = 1_000;
/**
 * A bounded read that could not make a consumer or fetch for this long fails
 * UNAVAILABLE: within the 30 s a client's call has (the CLI's deadline), so
 * the client hears a retryable answer rather than its own deadline.
 */
const GIVE_UP_MS = 20_000;
/** The server deletes a consumer idle for this long: one left by a reader that died is not kept for ever. */
const INACTIVE_THRESHOLD_MS = 60_000;
/**
 * How long a consumer's creation may take before it is tried again under
 * another name (see newConsumer): a placement on a live server answers in
 * milliseconds (at most a few hundred under load), one on a lost server never.
 */
const CREATE_TIMEOUT_MS = 2_000;
/** Waits between attempts to make a consumer after a failure other than a timeout: 250 ms doubling to 2 s. */
const RETRY_MS = [250, 500, 1_000, 2_000];

/** A connection as the store uses it (readerSession): one per store, shared by its appends and its readers. */
export interface ReaderSession {
  nc: NatsConnection;
  js: JetStreamClient;
  /** With the JetStream API timeout CREATE_TIMEOUT_MS: only consumer creations and deletions go through it. */
  jsm: JetStreamManager;
}

export async function readerSession(nc: NatsConnection): Promise<ReaderSession> {
  return { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager({ timeout: CREATE_TIMEOUT_MS, checkAPI: false }) };
}

export class OrderedReader {
  private consumer: Consumer | undefined;
  private current: ConsumerMessages | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;
  /** Matching messages after the last one received, per the server; -1 before start(). */
  pending = -1;
  /** Stream sequence of the last message received (0: none yet). */
  private lastSeq = 0;
  /** Delivery sequence of the last message of the current consumer: the next must be one more. */
  private delivered = 0;
  /** When the current run of failures began (undefined: the last attempt succeeded). */
  private failingSince: number | undefined;
  /** The client's connection events while reading; a reconnection ends the fetch in flight. */
  private stopWatchingConnection: (() => void) | undefined;
  private reconnected = false;

  // Hand-off between the fetch pump and the consumer of batches().
  private queue: JsMsg[] = [];
  private wakeReader: (() => void) | undefined;
  private wakePump: (() => void) | undefined;

  constructor(
    private readonly session: ReaderSession,
    private readonly opts: OrderedReadOptions,
  ) {}

  /** Create the server-side consumer; afterwards `pending` holds the number of matching messages. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.create();
    return this.starting;
  }

  private async create(): Promise<void> {
    const consumer = await this.newConsumer(this.opts.fromSeq ?? 1);
    if (consumer === undefined) return;
    if (this.stopped) {
      // close() ran while we were creating it: don't leak the consumer.
      await consumer.delete().catch(() => undefined);
      return;
    }
    this.consumer = consumer;
  }

  /**
   * A consumer of the stream (filtered) from `fromSeq`, made on whichever
   * server answers; `pending` is set from its info. Retried until made
   * (see the class comment for when a read gives up); undefined once closed.
   *
   * A new name for every attempt, and a short timeout: nats-server 2.9.10
   * places a one-replica consumer on any of the stream's peers, also one
   * that is down (measured on a three-node cluster with one node killed:
   * about one creation in three timed out, for as long as the node stayed
   * down, while the others answered in milliseconds), and a creation
   * placed there never answers. Re-sending the same name finds that
   * placement again and times out again (an IPAM projection was stuck for
   * minutes); a fresh name is placed afresh, and a timeout is retried at
   * once. A consumer an attempt did make but whose answer was lost is
   * deleted by the server once idle (INACTIVE_THRESHOLD_MS).
   */
  private async newConsumer(fromSeq: number): Promise<Consumer | undefined> {
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
      ...(this.opts.filter ? { filter_subject: this.opts.filter } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return undefined;
      try {
        const name = `strata_reader_${randomBytes(8).toString('hex')}`;
        const info = await this.session.jsm.consumers.add(this.opts.stream, { ...config, name });
        this.failingSince = undefined;
        this.delivered = 0;
        this.pending = info.num_pending;
        return this.session.js.consumers.getPullConsumerFor(info);
      } catch (err) {
        this.failed(err);
        // A timeout has waited already (CREATE_TIMEOUT_MS); anything else (no responders: no leader yet) backs off.
        if ((err as { code?: string } | null)?.code === 'TIMEOUT') continue;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
      }
    }
  }

  /** A failure to read: thrown on if retrying cannot help (or a bounded read has tried long enough), else noted. */
  private failed(err: unknown): void {
    if (jsErrCode(err) === JS_ERR_STREAM_NOT_FOUND || (err as { code?: string } | null)?.code === 'PERMISSIONS_VIOLATION') throw err;
    const now = Date.now();
    this.failingSince ??= now;
    if (this.opts.endSeq !== undefined && now - this.failingSince >= GIVE_UP_MS) {
      throw new StrataError(
        ErrorCode.Unavailable,
        `event log unavailable: no consumer of ${this.opts.stream} could read for ${GIVE_UP_MS / 1000} s`,
        {},
        { cause: err },
      );
    }
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
      if (!this.consumer) return;
      this.watchConnection();
      pump = this.pump(batch)
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

  private watchConnection(): void {
    const events = this.session.nc.status();
    // nats.js answers a QueuedIterator, typed only as AsyncIterable: its stop() ends the loop below and drops the
    // connection's listener (one per read would otherwise pile up).
    this.stopWatchingConnection = () => (events as Partial<QueuedIterator<Status>>).stop?.();
    void (async () => {
      for await (const e of events) {
        if (e.type !== Events.Reconnect) continue;
        this.reconnected = true;
        this.current?.stop();
      }
    })().catch(() => undefined);
  }

  private async pump(batch: number): Promise<void> {
    const { endSeq } = this.opts;
    while (!this.stopped) {
      // Bounded reads end when nothing matching is left; live reads wait for more.
      if (endSeq !== undefined && this.pending === 0) return;
      if (this.queue.length > batch / 2) {
        await new Promise<void>((resolve) => (this.wakePump = resolve));
        continue;
      }
      const consumer = this.consumer ?? (await this.replace());
      if (consumer === undefined) return;
      if (!(await this.fetchInto(consumer, batch))) {
        // This consumer is done for (see fetchInto): read on from a new one.
        this.consumer = undefined;
        void consumer.delete().catch(() => undefined);
      }
    }
  }

  /**
   * One fetch drained into the queue. False when the consumer can no longer
   * be trusted to deliver the rest in order: heartbeats missed, the fetch
   * failed, or a delivery sequence skipped.
   */
  private async fetchInto(consumer: Consumer, batch: number): Promise<boolean> {
    const { endSeq } = this.opts;
    const history = this.pending > 0;
    const expires = history ? HISTORY_EXPIRES_MS : Math.max(1_000, this.opts.liveExpiresMs ?? LIVE_EXPIRES_MS);
    let fetch: ConsumerMessages;
    try {
      fetch = await consumer.fetch({
        max_messages: history ? Math.min(batch, this.pending) : batch,
        expires,
        idle_heartbeat: Math.min(HEARTBEAT_MS, expires / 2),
      });
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.current = fetch;
    if (this.stopped) return true;
    const lost = watchHeartbeats(fetch);
    let received = 0;
    try {
      for await (const m of fetch) {
        received++;
        if (m.info.deliverySequence !== this.delivered + 1) {
          // A message of this consumer never reached us: what follows would skip it.
          fetch.stop();
          return false;
        }
        this.delivered = m.info.deliverySequence;
        this.queue.push(m);
        this.pending = m.info.pending;
        this.lastSeq = m.seq;
        this.failingSince = undefined;
        this.signal('reader');
        if (endSeq !== undefined && m.seq >= endSeq) return true;
      }
    } catch (err) {
      // The server deleted the consumer, or the connection closed under the fetch.
      if (this.stopped) return true;
      this.failed(err);
      return false;
    }
    if (this.stopped) return true;
    if (lost() || this.reconnected) {
      this.failed(new Error(this.reconnected ? 'the client reconnected' : 'heartbeats missed'));
      this.reconnected = false;
      return false;
    }
    if (!history && received === 0 && !(await this.receivedAllDelivered(consumer))) {
      this.failed(new Error('the server delivered messages this reader never received'));
      return false;
    }
    return true;
  }

  /**
   * Whether every message the server says this consumer delivered reached
   * us, asked when a live fetch ends with nothing (every LIVE_EXPIRES_MS while
   * idle). The delivery-sequence check above only sees a lost message when
   * a later one arrives; a lost *last* message (measured: a zone's IPAM
   * 10,000-port run, its projection 5 events behind a consumer that had
   * delivered them all with nothing pending, every command waiting for them
   * until its deadline) would otherwise wait for the next event, which no
   * one writes while everyone waits. Unknown (info refused or timed out):
   * keep the consumer; heartbeats and the next fetch judge it.
   */
  private async receivedAllDelivered(consumer: Consumer): Promise<boolean> {
    try {
      return (await consumer.info(false)).delivered.consumer_seq <= this.delivered;
    } catch {
      return true;
    }
  }

  /** A new consumer from the sequence after the last message received. */
  private async replace(): Promise<Consumer | undefined> {
    const consumer = await this.newConsumer(this.lastSeq > 0 ? this.lastSeq + 1 : (this.opts.fromSeq ?? 1));
    if (consumer !== undefined && this.stopped) {
      await consumer.delete().catch(() => undefined);
      return undefined;
    }
    this.consumer = consumer;
    return consumer;
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
    this.stopWatchingConnection?.();
    this.signal('pump');
    this.signal('reader');
    const consumer = this.consumer;
    this.consumer = undefined;
    // The consumer is ephemeral (the server deletes it when idle anyway); deleting now frees it early.
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
