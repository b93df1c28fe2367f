/**
 * The port reactor: a process manager that follows IPAM's port lifecycle.
 *
 *   ipam.PortCreated → put the port in its tenant's default group (creating
 *                      the group first if needed), unless its groups are set
 *   ipam.PortDeleted → PortForgotten on the port's secgroup aggregate
 *
 * Exactly once across N instances: all instances pull from one durable
 * JetStream consumer (`secgroup-port-reactor`, filter
 * `strata.evt.ipam.network.>`, where IPAM's port events live; nats-server
 * 2.9 takes one filter per consumer), so each event goes to one instance at
 * a time, and it is acknowledged only after its commands succeeded. A crash
 * before the ack means redelivery, to this or another instance, after the
 * ack wait.
 *
 * Effects are idempotent anyway (redeliveries, a slow instance whose ack
 * wait ran out): the instance first waits until its projection has applied
 * the event, then runs the deciders of domain/decide/reactor.ts, which skip
 * what is already done; each event it writes is appended with optimistic
 * concurrency against the aggregate version it decided on, under an event
 * id derived from the decision (type, aggregate, that version). Two
 * instances deciding the same step write the same id at the same version:
 * JetStream keeps one; any other concurrent write makes the second fail its
 * version check and decide again.
 */
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { ipamEvents } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { reactToPortCreated, reactToPortDeleted, type Append, type Caller, type Decision } from '../domain/decide/index.js';
import type { SecgroupState } from '../domain/state.js';
import type { SecgroupExecutor, SecgroupProjection } from './projection.js';

export const PORT_REACTOR_DURABLE = 'secgroup-port-reactor';
export const PORT_REACTOR_FILTER = 'strata.evt.ipam.network.>';

export interface PortReactorOptions {
  nc: NatsConnection;
  /** The domain stream (STRATA_EVENTS). */
  stream: string;
  executor: SecgroupExecutor;
  projection: SecgroupProjection;
  logger: Logger;
  /** Durable consumer name shared by every instance. */
  durable?: string;
  /** Unacknowledged events are redelivered after this long (set when the consumer is created). */
  ackWaitMs?: number;
  /** Delay before a failed event is redelivered. */
  retryDelayMs?: number;
  /** Messages pulled ahead per instance; small, so work spreads over instances. */
  batch?: number;
  onHandled?: (type: string, outcome: 'acted' | 'skipped' | 'failed') => void;
}

/** Event id of a reactor-written event: the same decision gets the same id on every instance. */
export const reactorEventId = (d: Append): string => `${d.event.type}:${d.aggregate.type}.${d.aggregate.id}@${d.expectedVersion}`;

/** Steps one event may take (default group, membership, a repair); more means a bug, not contention. */
const MAX_STEPS = 5;

const decoder = new TextDecoder();

export class PortReactor {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly durable: string;

  constructor(private readonly options: PortReactorOptions) {
    this.durable = options.durable ?? PORT_REACTOR_DURABLE;
  }

  async start(): Promise<void> {
    const { nc, stream } = this.options;
    await this.ensureConsumer();
    const consumer = await nc.jetstream().consumers.get(stream, this.durable);
    const messages = await consumer.consume({ max_messages: this.options.batch ?? 8 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) await this.handle(m);
    })().catch((err: unknown) => this.options.logger.error({ err }, 'port reactor stopped'));
  }

  /** Stop pulling; the event in hand is finished (and acknowledged) first. Unacked pulled events are redelivered elsewhere. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async ensureConsumer(): Promise<void> {
    const { nc, stream, logger } = this.options;
    const jsm = await nc.jetstreamManager();
    const config = {
      durable_name: this.durable,
      filter_subject: PORT_REACTOR_FILTER,
      ack_policy: AckPolicy.Explicit,
      // A new consumer starts at the beginning: ports that existed before secgroup ran get their default group too.
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(stream, this.durable);
      return;
    } catch {
      // not there yet: create it below
    }
    try {
      await jsm.consumers.add(stream, config);
      logger.info({ durable: this.durable }, 'created the port reactor consumer');
    } catch (err) {
      // Another instance created it between our info and add (with another config, e.g. an older version's): use theirs.
      await jsm.consumers.info(stream, this.durable).catch(() => {
        throw err;
      });
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const { logger, onHandled } = this.options;
    let stored: StoredEvent;
    try {
      stored = decodeMessage(m);
    } catch (err) {
      // Not an event envelope at all: nothing will ever make it one.
      logger.error({ err, seq: m.seq, subject: m.subject }, 'port reactor: undecodable message; terminated');
      m.term();
      return;
    }
    if (stored.type !== 'ipam.PortCreated' && stored.type !== 'ipam.PortDeleted') {
      m.ack();
      return;
    }
    // Keep the event ours while we work on it, even past the ack wait.
    const keepAlive = setInterval(() => m.working(), Math.max(500, (this.options.ackWaitMs ?? 30_000) / 3));
    try {
      const event = ipamEvents.decode(stored);
      if (event.type !== 'ipam.PortCreated' && event.type !== 'ipam.PortDeleted') throw new Error(`unexpected ${event.type}`);
      const portId = event.data.portId;
      const decide =
        event.type === 'ipam.PortCreated'
          ? (s: SecgroupState) => reactToPortCreated(s, portId)
          : (s: SecgroupState) => reactToPortDeleted(s, portId, event.tenant);
      // Decide against a state that includes the event itself (and whatever followed it).
      await this.options.projection.waitFor(event.seq);
      const acted = await this.settle(decide, event);
      m.ack();
      onHandled?.(event.type, acted ? 'acted' : 'skipped');
      if (acted) logger.debug({ type: event.type, portId, seq: event.seq }, 'port reactor acted');
    } catch (err) {
      logger.warn({ err, seq: m.seq, type: stored.type }, 'port reactor: event not handled; will be redelivered');
      onHandled?.(stored.type, 'failed');
      m.nak(this.options.retryDelayMs ?? 2_000);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Run the decider until it answers "done"; true if anything was written. */
  private async settle(decide: (s: SecgroupState) => Decision, event: StoredEvent): Promise<boolean> {
    // Everything here is derived from the IPAM event, so every instance writes byte-identical events.
    const caller: Caller = { actor: 'secgroup', tenant: event.tenant, admin: true, requestId: event.id, at: event.occurredAt };
    const meta = { caller, correlationId: event.correlationId, causationId: event.id, eventId: reactorEventId, ...(event.trace ? { trace: event.trace } : {}) };
    let acted = false;
    for (let step = 0; step < MAX_STEPS; step++) {
      const r = await this.options.executor.execute(decide, meta);
      if (!r.written) return acted;
      acted = true;
    }
    throw new Error(`port reactor: event ${event.id} still had work after ${MAX_STEPS} steps`);
  }
}

/** A JetStream message of the domain stream as a stored event (the event store's own decoding is internal to @strata/eventlog). */
function decodeMessage(m: JsMsg): StoredEvent {
  const ev = JSON.parse(decoder.decode(m.data)) as StoredEvent;
  if (typeof ev !== 'object' || ev === null || typeof ev.type !== 'string' || typeof ev.aggregate !== 'object') {
    throw new Error('not an event envelope');
  }
  ev.seq = m.seq;
  ev.subject = m.subject;
  ev.storedAt = new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString();
  return ev;
}
