import { ConcurrencyError } from '@strata/errors';
import { envelopeOf } from './envelope.js';
import type { EventCatalog } from './schema.js';
import { DEFAULT_SUBJECT_PREFIX, aggregateSubject, expectedSeq, subjectMatches, validateAppend } from './subjects.js';
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

export interface InMemoryEventStoreOptions {
  subjectPrefix?: string;
  /** Clock for storedAt; tests of time-based replay can drive it. */
  now?: () => Date;
  /** Check every append against its context's registry, as the production store does. */
  catalog?: EventCatalog;
}

/**
 * The event store in process memory, with the semantics of
 * JetStreamEventStore (the shared contract suite checks both): optimistic
 * concurrency per aggregate, idempotency by event id (forever, not only
 * within a duplicate window), global sequence, live subscriptions.
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: StoredEvent[] = [];
  private readonly lastBySubject = new Map<string, number>();
  private readonly seqById = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly prefix: string;
  private readonly now: () => Date;
  private readonly catalog: EventCatalog | undefined;

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    this.now = options.now ?? (() => new Date());
    this.catalog = options.catalog;
  }

  subjectOf(ref: AggregateRef): string {
    return aggregateSubject(ref, this.prefix);
  }

  async append(ref: AggregateRef, event: EventEnvelope, options: AppendOptions): Promise<AppendResult> {
    validateAppend(ref, event, options, this.catalog);
    const subject = this.subjectOf(ref);
    // Like JetStream: a known id is a duplicate before any version check.
    const known = this.seqById.get(event.id);
    if (known !== undefined) return { seq: known, duplicate: true };
    const expected = expectedSeq(options.expectedVersion);
    const actual = this.lastBySubject.get(subject) ?? 0;
    if (expected !== undefined && expected !== actual) throw new ConcurrencyError(subject, expected, actual);
    const seq = this.log.length + 1;
    // A JSON round trip stores what JetStream would: no shared references, no undefined fields.
    const stored = JSON.parse(JSON.stringify(envelopeOf(event))) as StoredEvent;
    stored.seq = seq;
    stored.subject = subject;
    stored.storedAt = this.now().toISOString();
    this.log.push(stored);
    this.lastBySubject.set(subject, seq);
    this.seqById.set(event.id, seq);
    for (const wake of [...this.waiters]) wake();
    return { seq, duplicate: false };
  }

  async readAggregate(ref: AggregateRef): Promise<ReadAggregateResult> {
    const subject = this.subjectOf(ref);
    const events = this.log.filter((e) => e.subject === subject).map(copy);
    return { events, version: this.lastBySubject.get(subject) ?? 0 };
  }

  async *read(options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    const end = Math.min(options.toSeq ?? Infinity, this.log.length);
    const limit = options.toTime?.getTime();
    for (let seq = Math.max(1, options.fromSeq ?? 1); seq <= end; seq++) {
      const e = this.log[seq - 1]!;
      if (options.subject !== undefined && !subjectMatches(options.subject, e.subject)) continue;
      if (limit !== undefined && Date.parse(e.storedAt) > limit) return;
      yield copy(e);
    }
  }

  subscribe(options: SubscribeOptions = {}): EventSubscription {
    return new MemorySubscription(this.log, this.waiters, options);
  }

  async lastSeq(subject?: string): Promise<number> {
    if (subject === undefined) return this.log.length;
    for (let i = this.log.length - 1; i >= 0; i--) {
      if (subjectMatches(subject, this.log[i]!.subject)) return i + 1;
    }
    return 0;
  }

  async pointAt(seq: number): Promise<LogPoint | undefined> {
    const e = Number.isInteger(seq) && seq >= 1 ? this.log[seq - 1] : undefined;
    return e && { seq: e.seq, storedAt: e.storedAt };
  }

  async pointAtTime(time: Date): Promise<LogPoint | undefined> {
    // Binary search for the first event stored after `time` (storedAt never decreases along the log).
    const limit = time.getTime();
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Date.parse(this.log[mid]!.storedAt) > limit) hi = mid;
      else lo = mid + 1;
    }
    return this.pointAt(lo);
  }
}

function copy(e: StoredEvent): StoredEvent {
  return structuredClone(e);
}

class MemorySubscription implements EventSubscription {
  readonly caughtUp: Promise<void>;
  private settleCaughtUp!: (err?: Error) => void;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly events: AsyncGenerator<StoredEvent>;
  private iterated = false;

  constructor(
    private readonly log: StoredEvent[],
    private readonly waiters: Set<() => void>,
    private readonly options: SubscribeOptions,
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
    this.caughtUp.catch(() => undefined);
    if (this.lastMatchingSeq() < (options.fromSeq ?? 1)) this.settleCaughtUp();
    this.events = this.run();
  }

  /** Sequence of the newest matching event, 0 if none: when we deliver it, JetStream's pending is 0. */
  private lastMatchingSeq(): number {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.matches(this.log[i]!)) return i + 1;
    return 0;
  }

  private matches(e: StoredEvent): boolean {
    return this.options.subject === undefined || subjectMatches(this.options.subject, e.subject);
  }

  private async *run(): AsyncGenerator<StoredEvent> {
    let next = Math.max(1, this.options.fromSeq ?? 1);
    const onAppend = (): void => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    this.waiters.add(onAppend);
    try {
      while (!this.stopped) {
        if (next > this.log.length) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const e = this.log[next - 1]!;
        next++;
        if (!this.matches(e)) continue;
        const last = this.lastMatchingSeq() === e.seq;
        try {
          yield copy(e);
        } finally {
          if (last) this.settleCaughtUp();
        }
      }
    } finally {
      this.waiters.delete(onAppend);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    if (this.iterated) throw new Error('an EventSubscription can be iterated only once');
    this.iterated = true;
    return this.events;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.events.return(undefined);
    this.settleCaughtUp(new Error('subscription stopped before it caught up'));
  }
}
