/**
 * Who may ask about what: a tenant about its own ports and resources (another
 * tenant's answer NotFound, exactly like a missing one); hypervisors and the
 * whole-cloud barrier are admin-only. Pure.
 */
import type { FollowedPort, ResourceRef } from '@strata/contracts';
import { NotFoundError } from '@strata/errors';
import { visible, type Caller } from '@strata/service-kit';
import type { StatusState } from './state.js';

export const visiblePort = (state: StatusState, caller: Caller, id: string): FollowedPort => visible(caller, 'port', id, state.ports[id]);

/** The tenant of a resource the caller may see; NotFound otherwise. */
export function visibleResource(state: StatusState, caller: Caller, ref: ResourceRef): string {
  if (ref.kind === 'port') return visiblePort(state, caller, ref.id).tenant;
  const tenant = state.owners[ref.kind][ref.id];
  return visible(caller, ref.kind, ref.id, tenant === undefined ? undefined : { tenant }).tenant;
}

/** A hypervisor an admin may ask about: registered, or with a liveness history. */
export function knownHypervisor(state: StatusState, hostId: string): void {
  if (!(hostId in state.hypervisors) && !(hostId in state.liveness)) throw new NotFoundError('hypervisor', hostId);
}
