import { IllegalStateError, NotFoundError, RevisionConflictError } from '@strata/errors';
import { CLOUD_AGGREGATE } from '@strata/contracts';
import { visible } from '@strata/service-kit';
import type { IpamState, NetworkEntry, NetworkState } from '../state.js';
import type { Append, Caller, Decision } from './types.js';

/** One event on the cloud aggregate, decided against its current version. */
export const cloudAppend = (state: IpamState, tenant: string, resourceId: string, event: Append['event']): Decision => ({
  kind: 'append',
  aggregate: CLOUD_AGGREGATE,
  expectedVersion: state.cloud.version,
  tenant,
  resourceId,
  event,
});

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

/**
 * An update naming the revision it expects is decided only against that
 * revision: a stale one is refused whether or not the update would change
 * anything (the caller decided on state that is gone).
 */
export function requireRevision(kind: string, id: string, current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) throw new RevisionConflictError(kind, id, expected, current);
}

/**
 * The requested fields (`keys` of `requested` that are present) whose value
 * differs from the current one: what an update event carries. Values are
 * plain JSON (strings, numbers, booleans, lists of records), compared as such.
 */
export function changedFields<T extends object, K extends keyof T & string>(current: T, requested: { readonly [P in K]?: T[P] | undefined }, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) {
    const v = requested[k];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(current[k])) out[k] = v as T[K];
  }
  return out;
}

export const isEmpty = (o: object): boolean => Object.keys(o).length === 0;
