import { IllegalStateError, NotFoundError } from '@strata/errors';
import { visible } from '@strata/service-kit';
import type { IpamState, NetworkEntry, NetworkState } from '../state.js';
import type { Caller } from './types.js';

/** A network the caller can see and that still accepts subnets and ports. */
export function openNetwork(state: IpamState, caller: Caller, networkId: string): { network: NetworkEntry; aggregate: NetworkState } {
  const network = visible(caller, 'network', networkId, state.cloud.networks[networkId]);
  const aggregate = state.networks[networkId] ?? { version: 0, closed: false, subnets: {}, ports: {}, macs: {}, pairOwners: {} };
  if (aggregate.closed) throw new IllegalStateError(`network ${networkId} is being deleted`);
  return { network, aggregate };
}

export function requireHypervisor(state: IpamState, hostId: string): void {
  if (!state.cloud.hypervisors[hostId]) throw new NotFoundError('hypervisor', hostId);
}
