/**
 * Given/when/then for a service's pure deciders, shared by every service's
 * domain tests: given these events (stored-event envelopes applied with the
 * service's real fold, so other contexts' events go through the same path as
 * in production), when this command, then this decision or this error.
 */
import { randomUUID } from 'node:crypto';
import type { AggregateRef, StoredEvent } from '@strata/eventlog';
import { StrataError } from '@strata/errors';
import { toValidationError } from '@strata/runtime';
import type { Append, Caller, Decision } from '../decision.js';

/** The instant every test event and caller carries (deciders never read a clock). */
export const TEST_AT = '2026-01-01T00:00:00.000Z';

export const admin: Caller = { actor: 'admin', tenant: 'ops', admin: true, requestId: '', at: TEST_AT };
export const tenantA: Caller = { actor: 'alice', tenant: 'tenant-a', admin: false, requestId: '', at: TEST_AT };
export const tenantB: Caller = { actor: 'bob', tenant: 'tenant-b', admin: false, requestId: '', at: TEST_AT };

/** What a test states about an event; the rest of the envelope is filled in. */
export type GivenEvent = { type: string; version: number; aggregate: AggregateRef; data: unknown; tenant: string };

/** Encodes a decided event with its context's registry (validates it, stamps the current version). */
export interface EventEncoder {
  encode(type: string, data: unknown): { version: number; data: unknown };
}

/** A request schema (zod), as far as the fixture uses it. */
export interface RequestSchema {
  safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: Parameters<typeof toValidationError>[0] };
}

/** One operation's decider, typed loosely: the schema has already shaped the command. */
export type DeciderFor<S, E> = (state: S, command: never, ctx: { caller: Caller }) => Decision<E>;

export class EventFixture<S, E extends { type: string; data: unknown }> {
  readonly events: StoredEvent[] = [];
  private seq = 0;

  constructor(
    readonly state: S,
    private readonly fold: (state: S, event: StoredEvent) => S,
    private readonly encoder: EventEncoder,
  ) {}

  /** Given: any event of any context, in stream order. */
  store(e: GivenEvent): StoredEvent {
    const event: StoredEvent = {
      id: randomUUID(),
      ...e,
      actor: 'test',
      occurredAt: TEST_AT,
      correlationId: 'c',
      causationId: null,
      seq: ++this.seq,
      subject: `strata.evt.${e.aggregate.context}.${e.aggregate.type}.${e.aggregate.id}`,
      storedAt: TEST_AT,
    };
    this.events.push(event);
    this.fold(this.state, event);
    return event;
  }

  /** Given another context's event, encoded by that context's registry. */
  storeOf(encoder: EventEncoder, type: string, aggregate: AggregateRef, data: unknown, tenant: string): StoredEvent {
    const encoded = encoder.encode(type, data);
    return this.store({ type, version: encoded.version, aggregate, data: encoded.data, tenant });
  }

  /** Apply a decided event as the executor would append it. */
  apply(d: Append<E>): void {
    this.storeOf(this.encoder, d.event.type, d.aggregate, d.event.data, d.tenant);
  }

  /** When: a request, parsed by its schema like the service does (a rejection is the same INVALID_ARGUMENT). */
  decideWith(schema: RequestSchema, decider: DeciderFor<S, E>, input: unknown, caller: Caller, requestId: string = randomUUID()): Decision<E> {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw toValidationError(parsed.error);
    return decider(this.state, parsed.data as never, { caller: { ...caller, requestId } });
  }

  /** Decide and apply; the appended event (or the decider's error). */
  runWith(schema: RequestSchema, decider: DeciderFor<S, E>, input: unknown, caller: Caller, requestId?: string): Append<E> {
    const d = this.decideWith(schema, decider, input, caller, requestId);
    if (d.kind !== 'append') throw new Error('expected an event, got "already done"');
    this.apply(d);
    return d;
  }

  /** A reactor's handling of one event: run its decider until "done" (as the generic Reactor does); what it wrote. */
  settle(decide: () => Decision<E>, maxSteps = 5): Append<E>[] {
    const written: Append<E>[] = [];
    for (let d = decide(); d.kind === 'append'; d = decide()) {
      if (written.length > maxSteps) throw new Error('reactor does not settle');
      this.apply(d);
      written.push(d);
    }
    return written;
  }
}

/** The typed error `fn` throws (fails when it returns instead). */
export function errorOf(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StrataError) return e;
    throw e;
  }
  throw new Error('expected an error, got a decision');
}
