/**
 * Public types of the event log. Implementations: JetStreamEventStore
 * (production) and InMemoryEventStore (unit tests); one contract suite runs
 * against both.
 */

/** Which aggregate an event belongs to. Its subject is `strata.evt.<context>.<type>.<id>`. */
export interface AggregateRef {
  /** Bounded context = owning service, e.g. `ipam`. */
  context: string;
  /** Aggregate type inside that context, e.g. `network`. */
  type: string;
  /** Aggregate id; a NATS subject token (no dots, spaces or wildcards). */
  id: string;
}

/** W3C trace context carried with every event and every NATS request. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** Who, when and why: the metadata a command hands to the events it produces. */
export interface EventMetadata {
  /** Tenant that owns the aggregate; `_system` for cloud-wide resources. */
  tenant: string;
  /** Authenticated principal that caused the change (token subject, service name). */
  actor: string;
  /** Groups all events caused by one external request. */
  correlationId: string;
  /** The event or command that directly caused this one; null for a root command. */
  causationId: string | null;
  /** ISO-8601 instant; comes from the command metadata, never `new Date()` in domain code. */
  occurredAt: string;
  /** Why, in the caller's words (CLI `--reason`, gRPC metadata `x-reason`); absent when none was given. */
  reason?: string;
  trace?: TraceContext;
}

/** An event as written: envelope plus typed data. */
export interface EventEnvelope<TType extends string = string, TData = unknown> extends EventMetadata {
  /** Globally unique event id; also the JetStream Nats-Msg-Id, so a re-sent append is stored once. */
  id: string;
  type: TType;
  /** Schema version of `data`. Readers upcast older versions to the latest. */
  version: number;
  aggregate: AggregateRef;
  data: TData;
}

/** An event as read back: envelope plus its position in the log. */
export interface StoredEvent<TType extends string = string, TData = unknown> extends EventEnvelope<TType, TData> {
  /** Stream sequence: the event's global position. */
  seq: number;
  subject: string;
  /** When the log stored it (JetStream timestamp), ISO-8601. */
  storedAt: string;
  /**
   * Set by the store for a message in the stream that is not a valid event
   * envelope, or whose envelope names another aggregate than its subject.
   * Such an event is still delivered (in order, with its sequence) so every
   * reader can quarantine it instead of stopping: its `aggregate` then comes
   * from the subject (which NATS permissions vouch for), `type` and `version`
   * are the envelope's claims when they have the right shape ('' and 0 when
   * not), `tenant` is '' (it belongs to no tenant) and `data` is null. Every
   * `EventRegistry.decode` refuses it.
   */
  unreadable?: { reason: 'envelope' | 'subject-mismatch'; message: string };
}

/** `'none'`: the aggregate must not exist yet. A number: the aggregate's last sequence we decided against. `'any'`: no check. */
export type ExpectedVersion = number | 'none' | 'any';

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
}

export interface AppendResult {
  /** Stream sequence of the event (of the original, if this append was a duplicate). */
  seq: number;
  /** True when the store already had an event with this id and stored nothing. */
  duplicate: boolean;
}

export interface ReadAggregateResult {
  events: StoredEvent[];
  /** Last sequence of the aggregate (0 when it has no events): the expectedVersion for the next append. */
  version: number;
}

export interface ReadOptions {
  /** First stream sequence to read (inclusive, default 1). */
  fromSeq?: number;
  /** Last stream sequence to read (inclusive). Replays "up to a sequence". */
  toSeq?: number;
  /** Read only events stored at or before this instant. Replays "up to a time". */
  toTime?: Date;
  /** Subject filter (NATS wildcards), e.g. `strata.evt.ipam.>`. Default: every event. */
  subject?: string;
}

export interface SubscribeOptions {
  /** Subject filter, e.g. `strata.evt.ipam.>`. */
  subject?: string;
  /** Deliver from this stream sequence (inclusive). Default: from the start. */
  fromSeq?: number;
}

/** A live, ordered feed of events: history from a position, then new events as they are stored. */
export interface EventSubscription extends AsyncIterable<StoredEvent> {
  /** Resolves once every event stored before the subscription started has been delivered. */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/** An event's position in the log and when the log stored it (what a point in the log resolves to). */
export interface LogPoint {
  seq: number;
  /** ISO-8601, milliseconds (the same truncation as StoredEvent.storedAt). */
  storedAt: string;
}

/** The event-store port. */
export interface EventStore {
  readAggregate(ref: AggregateRef): Promise<ReadAggregateResult>;
  append(ref: AggregateRef, event: EventEnvelope, options: AppendOptions): Promise<AppendResult>;
  read(options?: ReadOptions): AsyncIterable<StoredEvent>;
  subscribe(options?: SubscribeOptions): EventSubscription;
  /** Last sequence of the whole log (or of the subject filter); 0 when empty. */
  lastSeq(subject?: string): Promise<number>;
  /** The event stored at `seq` (its position and stored time); undefined when there is none (0, past the end). One message read. */
  pointAt(seq: number): Promise<LogPoint | undefined>;
  /**
   * The last event stored at or before `time` (compared at storedAt's
   * millisecond precision); undefined when every event is later or the log
   * is empty. Found through the store's own time index (JetStream's
   * by-start-time delivery), never by reading the log: a few requests
   * whatever its length.
   */
  pointAtTime(time: Date): Promise<LogPoint | undefined>;
}

/** A service's folded state at a log position, so a restart replays only what came after `seq`. */
export interface Snapshot<TState = unknown> {
  /** Last stream sequence folded into `state`; replay resumes at `seq + 1`. */
  seq: number;
  /** Plain JSON data (what `JSON.stringify` keeps is what comes back). */
  state: TState;
  /** Version of the state's shape; a reader that does not know it rebuilds from the log instead. */
  schemaVersion: number;
}

export interface LoadedSnapshot<TState = unknown> extends Snapshot<TState> {
  /** When the snapshot was saved, ISO-8601. */
  savedAt: string;
}

/** What a save wrote (for logs and metrics). */
export interface SavedSnapshot {
  seq: number;
  /** Lines of the snapshot, header and trailer included. */
  lines: number;
  /** UTF-8 bytes written. */
  bytes: number;
  /** Synchronous serialisation of the state into lines (the event loop is held for this long). */
  encodeMs: number;
  /** Asynchronous upload after that. */
  writeMs: number;
}

/**
 * How a snapshot is cut into lines (snapshot format 2, see libs/eventlog
 * snapshots.ts): no line, and so no string, ever holds the whole state.
 */
export interface SnapshotFormatOptions {
  /**
   * Soft size of a line, in UTF-16 code units: a plain object whose JSON
   * would be longer is split, its keys batched into lines of about this size.
   */
  lineChars: number;
  /**
   * Hard limit of one line, in UTF-16 code units (far below V8's string cap
   * of ~536.9M). A value that cannot be split (an array, a string, an object
   * deeper than `splitDepth`) and is longer fails the save; a longer line
   * fails the load.
   */
  maxLineChars: number;
  /** Longest key path of an object that may still be split into lines. */
  splitDepth: number;
}

/** The snapshot port. Snapshots are derived data: losing one only costs a longer replay. */
export interface SnapshotStorePort {
  /**
   * Serialises `snapshot.state` synchronously, before returning: the caller
   * may change the state as soon as `save` returns (the write itself is
   * asynchronous and works on the serialised lines). Rejects (never throws)
   * when the state cannot be serialised or written.
   */
  save(name: string, snapshot: Snapshot): Promise<SavedSnapshot>;
  /**
   * The latest snapshot saved under `name`, or null if there is none.
   * Rejects when it cannot be read: corrupt, or in another format (a format-1
   * snapshot, one JSON document, is refused with a `SnapshotFormatError`).
   */
  load<TState = unknown>(name: string): Promise<LoadedSnapshot<TState> | null>;
}
