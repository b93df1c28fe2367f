import type { BgpEvent } from '@strata/contracts';
import type { Append as GenericAppend, Caller, Decision as GenericDecision } from '@strata/service-kit';

export type { Caller } from '@strata/service-kit';

export interface CommandContext {
  caller: Caller;
}

/** An event a BGP decider may produce: type and data of one of the gateway's events. */
export type NewBgpEvent = { [E in BgpEvent as E['type']]: { type: E['type']; data: E['data'] } }[BgpEvent['type']];

export type Append = GenericAppend<NewBgpEvent>;
export type Decision = GenericDecision<NewBgpEvent>;

/** Owner of the gateway's configuration and observations: the cloud, not a tenant. */
export const SYSTEM_TENANT = '_system';
