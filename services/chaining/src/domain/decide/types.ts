import type { AggregateRef } from '@strata/eventlog';
import type { ChainingEvent } from '@strata/contracts';
import type { Append as GenericAppend, Caller, Decision as GenericDecision } from '@strata/service-kit';

export type { AlreadyDone, Caller } from '@strata/service-kit';

export interface CommandContext {
  caller: Caller;
}

/** An event a chaining decider may produce: type and data of one of chaining's events. */
export type NewChainingEvent = { [E in ChainingEvent as E['type']]: { type: E['type']; data: E['data'] } }[ChainingEvent['type']];

export type Append = GenericAppend<NewChainingEvent>;
export type Decision = GenericDecision<NewChainingEvent>;

/** A decision about an existing resource: its one event, appended to its aggregate against the version the decision read. */
export const appendTo = (aggregate: AggregateRef, r: { id: string; tenant: string; version: number }, event: NewChainingEvent): Append => ({
  kind: 'append',
  aggregate,
  expectedVersion: r.version,
  tenant: r.tenant,
  resourceId: r.id,
  event,
});
