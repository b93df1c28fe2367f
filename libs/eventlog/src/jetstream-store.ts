import { DeliverPolicy, headers, type JetStreamManager, type MsgRequest, type NatsConnection } from 'nats';
import { ConcurrencyError, ErrorCode, StrataError } from '@strata/errors';
import { decodeStored, encodeEnvelope, storedMillis } from './codec.js';
import { OrderedReader, readerSession, type ReaderSession } from './ordered-reader.js';
import {
  DEFAULT_EVENT_LOG_OPTIONS,
  JS_ERR_NO_MESSAGE_FOUND,
  JS_ERR_WRONG_LAST_SEQUENCE,
  ensureEventStream,
  jsErrCode,
  type EventLogOptions,
} from './stream-config.js';
import type { EventCatalog } from './schema.js';
import { aggregateSubject, expectedSeq, validateAppend } from './subjects.js';
import type {
  AggregateRef,
  AppendOptions,
  AppendResult,
  EventEnvelope,
  EventStore,
  EventSubscription,
  LogPoint,
  ReadAggregateResult,
  ReadOptions,
  StoredEvent,
  SubscribeOptions,
} from './types.js';

const MSG_ID = 'Nats-Msg-Id';
const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';

/** The production event store: one JetStream stream, one subject per aggregate. */
export class JetStreamEventStore implements EventStore {
  private constructor(
    private readonly session: ReaderSession,
    private readonly jsm: JetStreamManager,
    readonly options: EventLogOptions,
    private readonly catalog: EventCatalog | undefined,
  ) {}

  /**
   * Connect the store to its stream, creating or reconciling the stream first.
   * `catalog`: every append is checked against its context's registry (every
   * service passes the contracts' catalog; see docs/architecture.md, "The event log").
   */
  static async open(nc: NatsConnection, options: Partial<EventLogOptions> & { catalog?: EventCatalog } = {}): Promise<JetStreamEventStore> {
    const { catalog, ...rest } = options;
    const o = { ...DEFAULT_EVENT_LOG_OPTIONS, ...rest };
    const jsm = await nc.jetstreamManager();
    await ensureEventStream(jsm, o);
    return new JetStreamEventStore(await readerSession(nc), jsm, o, catalog);
  }

  subjectOf(ref: AggregateRef): string {
    return aggregateSubject(ref, this.options.subjectPrefix);
  }

  async append(ref: AggregateRef, event: EventEnvelope, options: AppendOptions): Promise<AppendResult> {
    validateAppend(ref, event, options, this.catalog);
    const subject = this.subjectOf(ref);
    const expected = expectedSeq(options.expectedVersion);
    const h = headers();
    h.set(MSG_ID, event.id);
    if (expected !== undefined) h.set(EXPECTED_LAST_SUBJECT_SEQ, String(expected));
    if (event.trace?.traceparent) h.set('traceparent', event.trace.traceparent);
    if (event.trace?.tracestate) h.set('tracestate', event.trace.tracestate);
    try {
      const ack = await this.session.js.publish(subject, encodeEnvelope(event), { headers: h });
      return { seq: ack.seq, duplicate: ack.duplicate === true };
    } catch (err) {
      if (expected === undefined || jsErrCode(err) !== JS_ERR_WRONG_LAST_SEQUENCE) throw unavailable(err);
      // Within the duplicate window the server answers a re-sent id with
      // "duplicate" before checking the expected sequence; after it, the
      // sequence check fails. Our own earlier append of this event, if it
      // succeeded, is the first event of the subject after `expected`.
      const original = await this.findAppended(subject, expected, event.id);
      if (original !== undefined) return { seq: original, duplicate: true };
      throw new ConcurrencyError(subject, expected, parseActualSeq(err));
    }
  }

  async readAggregate(ref: AggregateRef): Promise<ReadAggregateResult> {
    const subject = this.subjectOf(ref);
    const version = await this.lastSeq(subject);
    const events: StoredEvent[] = [];
    if (version > 0) {
      const reader = new OrderedReader(this.session, { stream: this.options.streamName, filter: subject, endSeq: version });
      for await (const chunk of reader.batches()) for (const m of chunk) events.push(decodeStored(m, this.options.subjectPrefix));
    }
    return { events, version };
  }

  async *read(options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    // Bounded by the log's end when the read starts: a replay terminates even while writers keep appending.
    const last = await this.lastSeq(options.subject);
    const endSeq = options.toSeq === undefined ? last : Math.min(options.toSeq, last);
    const fromSeq = Math.max(1, options.fromSeq ?? 1);
    if (endSeq < fromSeq) return;
    const reader = new OrderedReader(this.session, {
      stream: this.options.streamName,
      ...(options.subject ? { filter: options.subject } : {}),
      fromSeq,
      endSeq,
    });
    const limit = options.toTime?.getTime();
    for await (const chunk of reader.batches()) {
      for (const m of chunk) {
        if (limit !== undefined && storedMillis(m) > limit) return;
        yield decodeStored(m, this.options.subjectPrefix);
      }
    }
  }

  subscribe(options: SubscribeOptions = {}): EventSubscription {
    const reader = new OrderedReader(this.session, {
      stream: this.options.streamName,
      ...(options.subject ? { filter: options.subject } : {}),
      fromSeq: options.fromSeq ?? 1,
    });
    // The log's end when the subscription starts: reaching it is "caught up". The consumer's `pending`
    // alone is not trusted: nats-server 2.9.10 over-counts it by one for a filter covering the whole
    // stream (`strata.evt.>`) when the consumer starts past sequence 1.
    const target = this.lastSeq(options.subject);
    return new JetStreamSubscription(reader, target, options.fromSeq ?? 1, this.options.subjectPrefix);
  }

  async lastSeq(subject?: string): Promise<number> {
    if (subject === undefined) return (await this.jsm.streams.info(this.options.streamName)).state.last_seq;
    try {
      // last_by_subj accepts wildcards (verified on nats-server 2.9.10).
      return (await this.jsm.streams.getMessage(this.options.streamName, { last_by_subj: subject })).seq;
    } catch (err) {
      if (jsErrCode(err) === JS_ERR_NO_MESSAGE_FOUND) return 0;
      throw unavailable(err);
    }
  }

  async pointAt(seq: number): Promise<LogPoint | undefined> {
    if (!Number.isInteger(seq) || seq < 1) return undefined;
    try {
      const m = await this.jsm.streams.getMessage(this.options.streamName, { seq });
      // Date.parse truncates the nanosecond timestamp to milliseconds, as storedMillis does for a read event.
      return { seq: m.seq, storedAt: new Date(Date.parse(m.timestamp)).toISOString() };
    } catch (err) {
      if (jsErrCode(err) === JS_ERR_NO_MESSAGE_FOUND) return undefined;
      throw unavailable(err);
    }
  }

  async pointAtTime(time: Date): Promise<LogPoint | undefined> {
    // The first event stored after `time` (at or after the next millisecond), found by the server from its
    // time index: an ordered consumer delivering by start time, headers only; the answer is the event before it.
    const consumer = await this.session.js.consumers.get(this.options.streamName, {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(time.getTime() + 1).toISOString(),
      headers_only: true,
    });
    try {
      if ((await consumer.info()).num_pending === 0) {
        // Nothing after `time` when the consumer started: the answer is the last event, unless one was
        // stored since (then the consumer has it, below).
        const last = await this.pointAt(await this.lastSeq());
        if (last === undefined || Date.parse(last.storedAt) <= time.getTime()) return last;
      }
      const m = await consumer.next({ expires: 30_000 });
      if (m === null) throw new StrataError(ErrorCode.Unavailable, 'event log unavailable: no answer to a by-time lookup');
      return this.pointAt(m.seq - 1);
    } catch (err) {
      throw unavailable(err);
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /** Sequence of the event with this id if it is the subject's first event after `afterSeq`. */
  private async findAppended(subject: string, afterSeq: number, id: string): Promise<number | undefined> {
    try {
      // next_by_subj exists in the 2.9 message-get API but not in nats.js' MsgRequest type.
      const query = { seq: afterSeq + 1, next_by_subj: subject } as unknown as MsgRequest;
      const m = await this.jsm.streams.getMessage(this.options.streamName, query);
      return m.header?.get(MSG_ID) === id ? m.seq : undefined;
    } catch (err) {
      if (jsErrCode(err) === JS_ERR_NO_MESSAGE_FOUND) return undefined;
      throw unavailable(err);
    }
  }
}

/** "wrong last sequence: 42" → 42. */
function parseActualSeq(err: unknown): number | undefined {
  const match = /wrong last sequence: (\d+)/.exec(String((err as Error)?.message ?? ''));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** No stream answering or no ack in time: the log is unavailable, which callers may retry. */
function unavailable(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code === '503' || code === 'TIMEOUT') {
    return new StrataError(ErrorCode.Unavailable, 'event log unavailable', {}, { cause: err });
  }
  return err;
}

class JetStreamSubscription implements EventSubscription {
  readonly caughtUp: Promise<void>;
  private settleCaughtUp!: (err?: Error) => void;
  private readonly started: Promise<void>;
  private readonly events: AsyncGenerator<StoredEvent>;
  private iterated = false;

  private target = Number.POSITIVE_INFINITY;

  constructor(
    private readonly reader: OrderedReader,
    target: Promise<number>,
    fromSeq: number,
    private readonly prefix: string,
  ) {
    let done = false;
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.settleCaughtUp = (err) => {
        if (done) return;
        done = true;
        if (err) reject(err);
        else resolve();
      };
    });
    // Nobody may await caughtUp; a rejection must not become an unhandled one.
    this.caughtUp.catch(() => undefined);
    // Create the consumer eagerly so caughtUp settles even before iteration starts.
    this.started = target.then((t) => {
      this.target = t;
      return reader.start();
    });
    this.started.then(
      () => {
        if (reader.pending === 0 || this.target < fromSeq) this.settleCaughtUp();
      },
      (err: Error) => this.settleCaughtUp(err),
    );
    this.events = this.run();
  }

  private async *run(): AsyncGenerator<StoredEvent> {
    await this.started;
    for await (const chunk of this.reader.batches()) {
      for (const m of chunk) {
        const last = m.info.pending === 0 || m.seq >= this.target;
        try {
          yield decodeStored(m, this.prefix);
        } finally {
          // Settles once the consumer has taken the event, also if it breaks out right after.
          if (last) this.settleCaughtUp();
        }
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    if (this.iterated) throw new Error('an EventSubscription can be iterated only once');
    this.iterated = true;
    return this.events;
  }

  async stop(): Promise<void> {
    await this.reader.close();
    await this.events.return(undefined);
    this.settleCaughtUp(new Error('subscription stopped before it caught up'));
  }
}
