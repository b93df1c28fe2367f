/**
 * The export loop: the event log's entries, in log order, to Kafka, at least
 * once. One process is the exporter; its progress is the JetStream durable
 * consumer `kafka-exporter` (explicit acknowledgement), so a restarted
 * process resumes where the last one stopped.
 *
 * 1. receive: the durable consumer's deliveries go into the Sequencer, which
 *    hands them out in position order starting at the consumer's ack floor
 *    + 1 (the first entry not known to be in Kafka), whatever order
 *    redeliveries come in;
 * 2. pump: one batch at a time (never two sends in flight), the next
 *    consecutive positions are produced with acks=-1 (every in-sync replica
 *    has them) and only then acknowledged to JetStream, in position order;
 *    a failed send (broker down, timeouts, unknown topic) is retried, the
 *    same batch, with a capped backoff, for as long as it takes: nothing is
 *    skipped and nothing later overtakes it. While a batch waits its
 *    messages are kept ours (`working`), so JetStream does not redeliver
 *    them meanwhile.
 *
 * What a Kafka consumer may therefore see (docs/architecture.md, "The Kafka
 * export"): every entry at least once; per key (aggregate id) the entries in
 * log order by first appearance; and re-sends: after a crash, the entries
 * the dead process had sent but not acknowledged are sent again, from the
 * ack floor on, in order; after a failed send, its whole batch is sent
 * again. A re-send repeats a contiguous run of positions already seen, with
 * the same event id and position.
 *
 * One exporter at a time: two processes on one durable would each produce
 * their share in their own order, and the key order would not hold across
 * them. A lost consumer (deleted by an operator) is created again as it
 * was; it then starts at the beginning of the log, and what this process
 * already produced is acknowledged without being sent again.
 */
import { AckPolicy, DeliverPolicy, nanos, type ConsumerInfo, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from '@strata/runtime';
import { kafkaRecord, type KafkaRecord } from './record.js';
import { Sequencer } from './sequencer.js';

/** Where the records go: resolves once the broker acknowledged every record, throws otherwise. */
export interface RecordSink {
  send(records: KafkaRecord[]): Promise<void>;
}

export interface ExporterOptions {
  nc: NatsConnection;
  /** The domain stream (STRATA_EVENTS). */
  stream: string;
  /** The consumer's filter: the stream's whole subject space, so positions are contiguous. */
  filter: string;
  /** The durable consumer's name (the NATS permissions grant it to this service only). */
  durable: string;
  sink: RecordSink;
  logger: Logger;
  /** Records per Kafka send, at most. */
  batch: number;
  /** How long to wait for more entries when less than a batch is in hand (Kafka's linger.ms, in effect). */
  lingerMs: number;
  /** An unacknowledged delivery comes back after this long: also how long a restart waits for the dead process's entries. */
  ackWaitMs: number;
  /** First wait after a failed send; doubled up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Wait before consuming again after the consumer was lost. */
  recoverDelayMs?: number;
  /** A batch reached Kafka: its size and its last position. */
  onExported?: (count: number, lastPosition: number) => void;
  /** A send failed and will be retried. */
  onSendFailed?: (err: unknown) => void;
  /** A position turned out not to exist in the stream and was passed over. */
  onMissing?: (position: number) => void;
}

class Stopped extends Error {
  override readonly name = 'Stopped';
}

/** How many unacknowledged deliveries the consumer allows: two batches, so receiving overlaps sending. */
export const maxAckPending = (batch: number): number => 2 * batch;

export class Exporter {
  private sequencer: Sequencer<JsMsg> | undefined;
  private messages: ConsumerMessages | undefined;
  private loops: Promise<unknown> | undefined;
  private stopping = false;
  private wakePump: (() => void) | undefined;
  private blockedSince: number | undefined;
  private consuming = false;
  /** Since when sends fail (undefined while they succeed). */
  private failingSince: number | undefined;

  constructor(private readonly options: ExporterOptions) {}

  /** Resolves once the consumer exists and deliveries flow; the export then runs until stop(). */
  async start(): Promise<void> {
    const info = await this.ensureConsumer();
    this.sequencer = new Sequencer<JsMsg>(info.ack_floor.stream_seq + 1);
    this.options.logger.info({ durable: this.options.durable, from: this.sequencer.next, ackPending: info.num_ack_pending }, 'kafka export: resuming');
    await this.consume();
    this.loops = Promise.all([this.receive(), this.pump()]);
  }

  /** Stop: a batch being sent is abandoned unacknowledged (the next process sends it again). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    this.wakePump?.();
    await this.loops;
  }

  /** Consuming from the durable consumer. */
  get healthy(): boolean {
    return this.consuming || this.stopping;
  }

  /** The last position in Kafka (acknowledged or being acknowledged). */
  get lastExported(): number {
    return this.sequencer?.lastProduced ?? 0;
  }

  /** Milliseconds sends have been failing for, or undefined. */
  get failingForMs(): number | undefined {
    return this.failingSince === undefined ? undefined : Date.now() - this.failingSince;
  }

  private async consume(): Promise<void> {
    const { nc, stream, durable, batch } = this.options;
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    this.messages = await consumer.consume({ max_messages: batch, abort_on_missing_resource: true });
    this.consuming = true;
  }

  /** Deliveries into the sequencer until stop(); a lost consumer is created again. */
  private async receive(): Promise<void> {
    const { logger, durable } = this.options;
    const sequencer = this.sequencer!;
    while (!this.stopping) {
      const messages = this.messages;
      if (messages !== undefined) {
        try {
          for await (const m of messages) {
            const offer = sequencer.offer(m.seq, m);
            if (offer === 'ack') m.ack();
            else if (offer === 'kept') this.wakePump?.();
          }
        } catch (err) {
          logger.warn({ err, durable }, 'kafka export: consuming failed');
        }
        this.consuming = false;
        this.messages = undefined;
        if (this.stopping) return;
        const reason = await messages.closed().catch((err: unknown) => err);
        logger.warn({ durable, reason: reason instanceof Error ? reason.message : String(reason ?? 'closed') }, 'kafka export: lost its consumer; creating it again');
      }
      await delay(this.options.recoverDelayMs ?? 1_000);
      if (this.stopping) return;
      try {
        await this.ensureConsumer();
        await this.consume();
        if (this.stopping) this.messages?.stop();
      } catch (err) {
        logger.warn({ err, durable }, 'kafka export: could not consume again; retrying');
      }
    }
  }

  /** Batches out of the sequencer, one at a time, each produced and then acknowledged. */
  private async pump(): Promise<void> {
    const sequencer = this.sequencer!;
    while (!this.stopping) {
      // Deliveries come one by one: a short wait when less than a batch is in hand lets a burst fill one send
      // instead of the first entry of it going out alone (each send is a round trip to every broker involved).
      if (sequencer.waitingCount > 0 && sequencer.waitingCount < this.options.batch && this.options.lingerMs > 0) await delay(this.options.lingerMs);
      const batch = sequencer.take(this.options.batch);
      if (batch.length === 0) {
        await this.idle(sequencer);
        continue;
      }
      this.blockedSince = undefined;
      const t0 = performance.now();
      try {
        await this.produce(batch.map((b) => b.message));
      } catch (err) {
        if (err instanceof Stopped) return;
        throw err;
      }
      // In position order, after Kafka has them all: the ack floor never passes an entry Kafka lacks.
      for (const { message } of batch) message.ack();
      const last = batch[batch.length - 1]!.seq;
      sequencer.produced(last);
      this.options.onExported?.(batch.length, last);
      this.options.logger.debug({ count: batch.length, last, ms: Math.round(performance.now() - t0), waiting: sequencer.waitingCount }, 'kafka export: batch in Kafka');
    }
  }

  /** Wait for deliveries; when later entries wait for one that does not come, find out whether it exists. */
  private async idle(sequencer: Sequencer<JsMsg>): Promise<void> {
    const blockedOn = sequencer.blockedOn;
    if (blockedOn === undefined) this.blockedSince = undefined;
    else {
      this.blockedSince ??= Date.now();
      // The missing entry is most likely a dead process's delivery, back after the ack wait: give it two.
      if (Date.now() - this.blockedSince > 2 * this.options.ackWaitMs) {
        this.blockedSince = Date.now();
        await this.checkMissing(sequencer, blockedOn);
        return;
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(50, this.options.ackWaitMs / 2));
      this.wakePump = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakePump = undefined;
  }

  private async checkMissing(sequencer: Sequencer<JsMsg>, position: number): Promise<void> {
    const { nc, stream, logger } = this.options;
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.getMessage(stream, { seq: position });
      logger.info({ position }, 'kafka export: waiting for the redelivery of an entry');
    } catch (err) {
      if (!isNoMessage(err)) {
        logger.warn({ err, position }, 'kafka export: cannot tell whether an awaited entry exists; waiting on');
        return;
      }
      logger.warn({ position }, 'kafka export: the stream has no entry at this position (deleted); passing over it');
      sequencer.skipMissing(position);
      this.options.onMissing?.(position);
    }
  }

  /** Send until Kafka acknowledged every record of the batch; only stop() ends the attempts. */
  private async produce(messages: JsMsg[]): Promise<void> {
    const { sink, logger } = this.options;
    const records = messages.map((m) =>
      kafkaRecord({
        seq: m.seq,
        subject: m.subject,
        data: m.data,
        storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString(),
        msgId: m.headers?.get('Nats-Msg-Id') || undefined,
      }),
    );
    const keepAlive = setInterval(() => {
      for (const m of messages) m.working();
    }, Math.max(100, this.options.ackWaitMs / 3));
    let wait = this.options.retryInitialMs;
    try {
      for (;;) {
        if (this.stopping) throw new Stopped();
        try {
          await sink.send(records);
          if (this.failingSince !== undefined) logger.info({ failedForMs: Date.now() - this.failingSince }, 'kafka export: sending again');
          this.failingSince = undefined;
          return;
        } catch (err) {
          this.failingSince ??= Date.now();
          this.options.onSendFailed?.(err);
          logger.warn({ err: errorText(err), first: messages[0]!.seq, count: messages.length, retryInMs: wait }, 'kafka export: send failed; retrying the same batch');
        }
        await delay(wait);
        wait = Math.min(wait * 2, this.options.retryMaxMs);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Create the durable consumer if it is missing, or bring its limits to ours; its info. */
  private async ensureConsumer(): Promise<ConsumerInfo> {
    const { nc, stream, durable, logger } = this.options;
    const jsm = await nc.jetstreamManager();
    const wanted = {
      ack_wait: nanos(this.options.ackWaitMs),
      max_ack_pending: maxAckPending(this.options.batch),
    };
    const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (existing !== undefined) {
      if (existing.config.ack_wait === wanted.ack_wait && existing.config.max_ack_pending === wanted.max_ack_pending) return existing;
      logger.info({ durable, ...wanted }, 'kafka export: updating the consumer\'s ack wait and pending limit');
      return jsm.consumers.update(stream, durable, wanted);
    }
    const created = await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: this.options.filter,
      ack_policy: AckPolicy.Explicit,
      // The first export starts at the beginning of the log: the topic gets all of it.
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
      ...wanted,
    });
    logger.info({ durable }, 'kafka export: created the durable consumer');
    return created;
  }
}

/** JetStream's "no message found" (10037): the stream has no entry at that position. */
function isNoMessage(err: unknown): boolean {
  const code = (err as { api_error?: { err_code?: number }; code?: string } | null)?.api_error?.err_code;
  return code === 10037 || (err as { code?: string } | null)?.code === '404';
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
