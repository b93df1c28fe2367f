/**
 * Deciders of the port reactor (the process manager that follows IPAM's
 * port lifecycle). Each answers the next step, or "done"; the reactor runs
 * them until done. They depend only on the state, so every instance and
 * every redelivery decides the same, and the events they write carry ids
 * derived from the decision (see app/port-reactor.ts).
 */
import { defaultSecurityGroupId, portSecurityAggregate } from '@strata/contracts';
import type { GroupEntry, SecgroupState } from '../state.js';
import { ensureDefaultGroup } from './group.js';
import type { Decision } from './types.js';

/**
 * IPAM created a port. If it still exists and its groups were never set (or
 * were forgotten with an earlier port of the same id), put it in its
 * tenant's default group, creating the group first if needed. If the port is
 * in its default group but the group is gone (deleted in a race with this
 * port's arrival), recreate the group: same id, so the membership is whole again.
 */
export function reactToPortCreated(state: SecgroupState, portId: string): Decision {
  const port = state.ports[portId];
  if (!port) return { kind: 'done', resourceId: portId };
  const defaultId = defaultSecurityGroupId(port.tenant);
  const group = state.groups[defaultId];
  // A port joins only its own tenant's default group. A group of another tenant under that id can only come
  // from a log written before request ids stopped being resource ids (issue 11, defect 7): the port then
  // stays without groups, which the host view reports as "not known", so the agent keeps it unplugged (fail closed).
  if (group && !isDefaultGroupOf(group, port.tenant)) return { kind: 'done', resourceId: portId };
  const current = state.portSettings[portId];
  const unset = !current || current.forgotten || current.groupIds === null;
  if (!unset) {
    return current.groupIds?.includes(defaultId) ? ensureDefaultGroup(state, port.tenant) : { kind: 'done', resourceId: portId };
  }
  if (!group) return ensureDefaultGroup(state, port.tenant);
  return {
    kind: 'append',
    aggregate: portSecurityAggregate(portId),
    expectedVersion: current?.version ?? 0,
    tenant: port.tenant,
    resourceId: portId,
    event: { type: 'secgroup.PortGroupsSet', data: { portId, groupIds: [defaultId] } },
  };
}

const isDefaultGroupOf = (group: GroupEntry, tenant: string): boolean => group.isDefault && group.tenant === tenant;

/**
 * IPAM deleted a port: forget its settings. Written even when the port had
 * none, so that a decision about the port made against a state from before
 * the deletion (a stale instance) fails its version check instead of landing.
 * Done if the port exists again (recreated with the same id) or is already forgotten.
 */
export function reactToPortDeleted(state: SecgroupState, portId: string, tenant: string): Decision {
  const current = state.portSettings[portId];
  if (state.ports[portId] || current?.forgotten) return { kind: 'done', resourceId: portId };
  return {
    kind: 'append',
    aggregate: portSecurityAggregate(portId),
    expectedVersion: current?.version ?? 0,
    tenant,
    resourceId: portId,
    event: { type: 'secgroup.PortForgotten', data: { portId } },
  };
}
