import type { SecgroupEvent } from '@strata/contracts';
import type { Append as GenericAppend, Caller, Decision as GenericDecision } from '@strata/service-kit';

export type { AlreadyDone, Caller } from '@strata/service-kit';

export interface CommandContext {
  caller: Caller;
}

/** An event a secgroup decider may produce: type and data of one of secgroup's events. */
export type NewSecgroupEvent = { [E in SecgroupEvent as E['type']]: { type: E['type']; data: E['data'] } }[SecgroupEvent['type']];

export type Append = GenericAppend<NewSecgroupEvent>;
export type Decision = GenericDecision<NewSecgroupEvent>;
