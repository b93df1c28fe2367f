/**
 * A reactor: a process manager that follows other services' events and turns
 * them into this service's own commands (secgroup: IPAM's port lifecycle →
 * default-group membership; nat: a deleted port or released address → the
 * floating IP's association ends).
 *
 * Exactly once across N instances: all instances pull from one durable
 * JetStream consumer, so each event goes to one instance at a time, and it
 * is acknowledged only after its effects are appended. A crash before the
 * ack means redelivery, to this or another instance, after the ack wait.
 *
 * Effects are idempotent anyway (redeliveries, a slow instance whose ack wait
 * ran out): the instance first waits until its projection has applied the
 * event, then runs the service's pure deciders, which skip what is already
 * done; each event it writes is appended with optimistic concurrency against
 * the aggregate version it decided on, under an event id derived from the
 * decision (type, aggregate, that version). Two instances deciding the same
 * step write the same id at the same version: JetStream keeps one; any other
 * concurrent write makes the second fail its version check and decide again.
 */
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { decodeEvent, isEventSchemaError, type StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import type { Append, Caller, Decision } from './decision.js';
import type { Executor, NewEvent } from './executor.js';
import type { ProjectedState } from './projection.js';
import type { Projection } from './projection.js';
import { isQuarantineRefusal } from './quarantine.js';

export interface ReactorOptions<S extends ProjectedState, E extends NewEvent> {
  nc: NatsConnection;
  /** The domain stream (STRATA_EVENTS). */
  stream: string;
  executor: Executor<S, E>;
  projection: Projection<S>;
  logger: Logger;
  /** Durable consumer name shared by every instance of the service. */
  durable: string;
  /** The consumer's filter subject (nats-server 2.9: one per consumer). */
  filter: string;
  /** Actor recorded on the events the reactor writes (the service's name). */
  actor: string;
  /**
   * What to do about an event: a decider run until it answers "done", or
   * null to skip the event (acknowledged at once). Throws an
   * `EventSchemaError` for an event it cannot decode: the event is then
   * quarantined (terminated, logged, counted as outcome `quarantined`; the
   * service's projection records it), since no redelivery will make it readable.
   */
  deciderFor(event: StoredEvent): ((state: S) => Decision<E>) | null;
  /** Unacknowledged events are redelivered after this long (set when the consumer is created). */
  ackWaitMs?: number;
  /** Delay before a failed event is redelivered. */
  retryDelayMs?: number;
  /** Messages pulled ahead per instance; small, so work spreads over instances. */
  batch?: number;
  onHandled?: (type: string, outcome: 'acted' | 'skipped' | 'failed' | 'quarantined') => void;
}

/** Event id of a reactor-written event: the same decision gets the same id on every instance. */
export const reactorEventId = (d: Append<NewEvent>): string => `${d.event.type}:${d.aggregate.type}.${d.aggregate.id}@${d.expectedVersion}`;

/** Redelivery delay of an event whose effect lands on a quarantined aggregate. */
const QUARANTINED_RETRY_MS = 60_000;

/** Steps one event may take; more means a bug, not contention. */
const MAX_STEPS = 5;

export class Reactor<S extends ProjectedState, E extends NewEvent> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ReactorOptions<S, E>) {}

  async start(): Promise<void> {
    const { nc, stream, durable } = this.options;
    await this.ensureConsumer();
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: this.options.batch ?? 8 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) await this.handle(m);
    })().catch((err: unknown) => this.options.logger.error({ err, durable }, 'reactor stopped'));
  }

  /** Stop pulling; the event in hand is finished (and acknowledged) first. Unacked pulled events are redelivered elsewhere. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async ensureConsumer(): Promise<void> {
    const { nc, stream, logger, durable } = this.options;
    const jsm = await nc.jetstreamManager();
    const config = {
      durable_name: durable,
      filter_subject: this.options.filter,
      ack_policy: AckPolicy.Explicit,
      // A new consumer starts at the beginning: what happened before the service ran is reacted to as well.
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(stream, durable);
      return;
    } catch {
      // not there yet: create it below
    }
    try {
      await jsm.consumers.add(stream, config);
      logger.info({ durable }, 'created the reactor consumer');
    } catch (err) {
      // Another instance created it between our info and add (with another config, e.g. an older version's): use theirs.
      await jsm.consumers.info(stream, durable).catch(() => {
        throw err;
      });
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const { logger, onHandled, durable } = this.options;
    // Never throws: a message that is no event envelope comes back marked unreadable, and deciderFor refuses it.
    const stored = decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString() });
    let decide: ReturnType<ReactorOptions<S, E>['deciderFor']>;
    try {
      decide = this.options.deciderFor(stored);
    } catch (err) {
      if (!isEventSchemaError(err)) return this.retryLater(m, stored, err);
      // Nothing will ever make it readable: redelivering it forever would only hold the consumer.
      logger.error({ seq: m.seq, subject: m.subject, type: stored.type, reason: err.reason, error: err.message, durable }, 'reactor: event quarantined (cannot be decoded); terminated');
      m.term();
      onHandled?.(stored.type, 'quarantined');
      return;
    }
    // Keep the event ours while we work on it, even past the ack wait.
    const keepAlive = setInterval(() => m.working(), Math.max(500, (this.options.ackWaitMs ?? 30_000) / 3));
    try {
      if (decide === null) {
        m.ack();
        return;
      }
      // Decide against a state that includes the event itself (and whatever followed it).
      await this.options.projection.waitFor(stored.seq);
      const acted = await this.settle(decide, stored);
      m.ack();
      onHandled?.(stored.type, acted ? 'acted' : 'skipped');
      if (acted) logger.debug({ type: stored.type, seq: stored.seq, durable }, 'reactor acted');
    } catch (err) {
      this.retryLater(m, stored, err);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private retryLater(m: JsMsg, stored: StoredEvent, err: unknown): void {
    this.options.logger.warn({ err, seq: m.seq, type: stored.type, durable: this.options.durable }, 'reactor: event not handled; will be redelivered');
    this.options.onHandled?.(stored.type, 'failed');
    // Its target aggregate is quarantined: only a version that reads the event clears that, so retry slowly (never drop the reaction).
    m.nak(isQuarantineRefusal(err) ? Math.max(QUARANTINED_RETRY_MS, this.options.retryDelayMs ?? 0) : (this.options.retryDelayMs ?? 2_000));
  }

  /** Run the decider until it answers "done"; true if anything was written. */
  private async settle(decide: (s: S) => Decision<E>, event: StoredEvent): Promise<boolean> {
    // Everything here is derived from the event, so every instance writes byte-identical events.
    const caller: Caller = { actor: this.options.actor, tenant: event.tenant, admin: true, requestId: event.id, at: event.occurredAt };
    const meta = { caller, correlationId: event.correlationId, causationId: event.id, eventId: reactorEventId, ...(event.trace ? { trace: event.trace } : {}) };
    let acted = false;
    for (let step = 0; step < MAX_STEPS; step++) {
      const r = await this.options.executor.execute(decide, meta);
      if (!r.written) return acted;
      acted = true;
    }
    throw new Error(`reactor ${this.options.durable}: event ${event.id} still had work after ${MAX_STEPS} steps`);
  }
}
