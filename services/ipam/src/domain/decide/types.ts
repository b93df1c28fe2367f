import type { IpamEvent } from '@strata/contracts';
import type { Append as GenericAppend, Caller, Decision as GenericDecision } from '@strata/service-kit';
import type { IpamPolicy } from '../policy.js';

export type { AlreadyDone, Caller } from '@strata/service-kit';

export interface CommandContext {
  caller: Caller;
  policy: IpamPolicy;
}

/** An event an IPAM decider may produce: type and data of one of IPAM's events. */
export type NewIpamEvent = { [E in IpamEvent as E['type']]: { type: E['type']; data: E['data'] } }[IpamEvent['type']];

/** One IPAM event to append to one aggregate (see `Append` in @strata/service-kit). */
export type Append = GenericAppend<NewIpamEvent>;
export type Decision = GenericDecision<NewIpamEvent>;

/** Tenant of cloud-wide resources (pools, hypervisors). */
export const SYSTEM_TENANT = '_system';
