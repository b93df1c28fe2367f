/**
 * Which resources' realisation an event changes: what the service re-derives
 * (and publishes, when changed) as agents catch up. A resource is tracked
 * from such a change until its status settles (realised; a port no longer
 * in BUILD) or for the tracking window (STATUS_TRACK_MS), whichever comes
 * first; a port is also re-derived on every change reported by its own
 * host's agent. Pure.
 */
import type { RealisedKind } from '@strata/contracts';
import type { StatusFollowed } from './evolve.js';

export interface TrackedRef {
  kind: RealisedKind;
  id: string;
  tenant: string;
}

/** The resources the event changes (a deletion: the resource is gone, see `deletedBy`). */
export function touchedBy(event: StatusFollowed): TrackedRef[] {
  const t = event.tenant;
  switch (event.type) {
    case 'ipam.PortCreated':
    case 'ipam.PortBound':
      // Its network's entry comes to (or leaves) a host with it.
      return [
        { kind: 'port', id: event.data.portId, tenant: t },
        { kind: 'network', id: event.aggregate.id, tenant: t },
      ];
    case 'ipam.PortAllowedAddressPairsSet':
    case 'secgroup.PortSecuritySet':
      return [{ kind: 'port', id: event.data.portId, tenant: t }];
    case 'secgroup.PortGroupsSet':
      return [{ kind: 'port', id: event.data.portId, tenant: t }, ...event.data.groupIds.map((id) => ({ kind: 'security-group' as const, id, tenant: t }))];
    case 'ipam.NetworkCreated':
      return [{ kind: 'network', id: event.data.networkId, tenant: t }];
    case 'ipam.RouterCreated':
    case 'ipam.RouterInterfaceAdded':
    case 'ipam.RouterInterfaceRemoved':
      return [{ kind: 'router', id: event.data.routerId, tenant: t }];
    case 'secgroup.GroupCreated':
    case 'secgroup.RuleAdded':
    case 'secgroup.RuleRemoved':
      return [{ kind: 'security-group', id: event.aggregate.id, tenant: t }];
    case 'chaining.ChainCreated':
      return [{ kind: 'chain', id: event.data.chainId, tenant: t }];
    default:
      return [];
  }
}

/** The resource an event deletes (no longer tracked: its status is NotFound). */
export function deletedBy(event: StatusFollowed): { kind: RealisedKind; id: string } | undefined {
  switch (event.type) {
    case 'ipam.PortDeleted':
      return { kind: 'port', id: event.data.portId };
    case 'ipam.NetworkDeleted':
      return { kind: 'network', id: event.data.networkId };
    case 'ipam.RouterDeleted':
      return { kind: 'router', id: event.data.routerId };
    case 'secgroup.GroupDeleted':
      return { kind: 'security-group', id: event.data.groupId };
    case 'chaining.ChainDeleted':
      return { kind: 'chain', id: event.data.chainId };
    default:
      return undefined;
  }
}

/** The hosts whose liveness an event decided (their ports' status may have changed). */
export function livenessOf(event: StatusFollowed): string | undefined {
  return event.type === 'status.HypervisorAgentDown' || event.type === 'status.HypervisorAgentUp' ? event.data.hostId : undefined;
}
