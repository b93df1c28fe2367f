import type { NatEvent } from '@strata/contracts';
import type { Append as GenericAppend, Caller, Decision as GenericDecision } from '@strata/service-kit';

export type { AlreadyDone, Caller } from '@strata/service-kit';

export interface CommandContext {
  caller: Caller;
}

/** An event a nat decider may produce: type and data of one of nat's events. */
export type NewNatEvent = { [E in NatEvent as E['type']]: { type: E['type']; data: E['data'] } }[NatEvent['type']];

export type Append = GenericAppend<NewNatEvent>;
export type Decision = GenericDecision<NewNatEvent>;
