/**
 * state + event → state, applied in stream order by every instance and by
 * replay; mutates the state it is given (owned by one projection).
 *
 * Three inputs: the gateway's own events, IPAM's (hypervisors, networks,
 * subnets, routed pools, the port lifecycle folded by the shared `applyPortEvent`,
 * application prefixes) and NAT's floating-IP associations, read in one
 * total order (see `follow` in @strata/service-kit).
 */
import {
  applyPortEvent,
  BGP_CONTEXT,
  bgpEvents,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  ipamEvents,
  NAT_CONTEXT,
  natEvents,
  physicalMacId,
  physicalVtepId,
  routeAggregateId,
  SECGROUP_CONTEXT,
  secgroupEvents,
  type BgpEvent,
} from '@strata/contracts';
import { applyUpdate, eventTypes, follow, ownEvents, type FollowedEvent } from '@strata/service-kit';
import { charge, flapCost, forgotten, UNDAMPED } from './damping.js';
import type { BgpState } from './state.js';

/** A gateway's limit trips further apart than this start its re-enable backoff afresh. */
export const SESSION_LIMIT_MEMORY_MS = 60 * 60_000;

const ipamFollowed = eventTypes(IPAM_CONTEXT, ipamEvents, [
  'ipam.NetworkCreated',
  'ipam.NetworkUpdated',
  'ipam.NetworkDeleted',
  'ipam.HypervisorRegistered',
  'ipam.HypervisorDeregistered',
  'ipam.ApplicationPrefixAllocated',
  'ipam.ApplicationPrefixReleased',
  'ipam.SubnetCreated',
  'ipam.SubnetDeleted',
  'ipam.PoolCreated',
  'ipam.PoolDeleted',
  ...IPAM_PORT_EVENT_TYPES,
  'ipam.GatewayDeviceCreated',
  'ipam.GatewayDeviceDeleted',
  'ipam.GatewayBindingCreated',
  'ipam.GatewayBindingMoved',
  'ipam.GatewayBindingDeleted',
]);
const natFollowed = eventTypes(NAT_CONTEXT, natEvents, ['nat.FloatingIpAssociated', 'nat.FloatingIpDisassociated']);
/** Group tags and memberships: what a port's federated routes say about its groups. */
const secgroupFollowed = eventTypes(SECGROUP_CONTEXT, secgroupEvents, [
  'secgroup.GroupCreated',
  'secgroup.GroupUpdated',
  'secgroup.GroupDeleted',
  'secgroup.PortGroupsSet',
  'secgroup.PortForgotten',
]);

/** What the gateway's state is folded from: its own events, IPAM's fabric, NAT's associations and secgroup's tags. */
export const bgpFollows = follow(ownEvents(BGP_CONTEXT, bgpEvents), ipamFollowed, natFollowed, secgroupFollowed);

type IpamFollowed = FollowedEvent<typeof ipamFollowed>;
type NatFipEvent = FollowedEvent<typeof natFollowed>;
type SecgroupFollowed = FollowedEvent<typeof secgroupFollowed>;

/** Is this stored event one the gateway's state depends on? */
export const isRelevant = bgpFollows.isRelevant;

/** Fold one stored event of the domain stream: decode what the gateway reads, skip the rest (only its sequence counts). */
export const applyStored = bgpFollows.fold((state: BgpState, event: BgpEvent | IpamFollowed | NatFipEvent | SecgroupFollowed): BgpState => {
  switch (event.aggregate.context) {
    case BGP_CONTEXT:
      return evolve(state, event as BgpEvent);
    case IPAM_CONTEXT:
      return evolveIpam(state, event as IpamFollowed);
    case SECGROUP_CONTEXT:
      return evolveSecgroup(state, event as SecgroupFollowed);
    default:
      return evolveNat(state, event as NatFipEvent);
  }
});

export function evolve(state: BgpState, event: BgpEvent): BgpState {
  state.seq = event.seq;
  const config = state.config;
  if (event.aggregate.type === 'config') config.version = event.seq;
  switch (event.type) {
    case 'bgp.SettingsSet':
      config.settings = { ...event.data };
      break;
    case 'bgp.PeerAdded': {
      const { peerId, ...rest } = event.data;
      config.peers[peerId] = { id: peerId, ...rest, createdAt: event.occurredAt, revision: 1 };
      break;
    }
    case 'bgp.PeerUpdated': {
      const { peerId, ...changed } = event.data;
      applyUpdate(config.peers[peerId], changed);
      break;
    }
    case 'bgp.PeerRemoved':
      delete config.peers[event.data.peerId];
      break;
    case 'bgp.PeerGroupAdded': {
      const { groupId, ...rest } = event.data;
      config.groups[groupId] = { id: groupId, ...rest, createdAt: event.occurredAt, revision: 1 };
      break;
    }
    case 'bgp.PeerGroupUpdated': {
      const { groupId, ...changed } = event.data;
      applyUpdate(config.groups[groupId], changed);
      break;
    }
    case 'bgp.PeerGroupRemoved':
      delete config.groups[event.data.groupId];
      break;
    case 'bgp.AppliancePrefixAssigned':
      config.assignments[event.data.prefixId] = { ...event.data, tenant: event.tenant, assignedAt: event.occurredAt };
      break;
    case 'bgp.AppliancePrefixUnassigned':
      delete config.assignments[event.data.prefixId];
      break;
    case 'bgp.FederationSet':
      config.federation = structuredClone(event.data);
      config.federationRevision += 1;
      break;
    case 'bgp.FederationCleared':
      config.federation = null;
      config.federationRevision += 1;
      break;
    case 'bgp.RouteLearned':
    case 'bgp.RouteRejected':
    case 'bgp.RouteWithdrawn': {
      const d = event.data;
      const id = routeAggregateId(d.peer, d.prefix);
      const before = state.routes[id];
      // A rejection (old logs only) is not a route the fabric had: for damping it counts as withdrawn.
      const learned = event.type === 'bgp.RouteLearned' ? event.data : null;
      const was = before?.status === 'learned' ? 'learned' : null;
      const changed = learned !== null && before !== undefined && (before.nextHop !== learned.nextHop || before.asPath.join() !== learned.asPath.join());
      const cost = flapCost(was, learned ? 'learned' : null, changed);
      const damping = before?.damping ?? UNDAMPED;
      state.routes[id] = {
        id,
        version: event.seq,
        peer: d.peer,
        prefix: d.prefix,
        status: event.type === 'bgp.RouteLearned' ? 'learned' : event.type === 'bgp.RouteRejected' ? 'rejected' : null,
        nextHop: event.type === 'bgp.RouteWithdrawn' ? '' : event.data.nextHop,
        asPath: event.type === 'bgp.RouteWithdrawn' ? [] : [...event.data.asPath],
        reason: event.type === 'bgp.RouteRejected' ? event.data.reason : null,
        deviceId: event.type === 'bgp.RouteWithdrawn' ? null : event.data.deviceId,
        since: event.occurredAt,
        damping: cost > 0 ? charge(damping, cost, Date.parse(event.occurredAt)) : damping,
      };
      forgetWithdrawn(state, Date.parse(event.occurredAt));
      break;
    }
    case 'bgp.PhysicalMacLearned':
    case 'bgp.PhysicalMacWithdrawn': {
      const id = physicalMacId(event.data.deviceId, event.data.vni, event.data.mac, event.data.ip);
      state.physical[id] = { id, version: event.seq, learned: event.type === 'bgp.PhysicalMacLearned', tenant: event.tenant, kind: 'mac', data: { ...event.data } };
      break;
    }
    case 'bgp.PhysicalVtepLearned':
    case 'bgp.PhysicalVtepWithdrawn': {
      const id = physicalVtepId(event.data.deviceId, event.data.vni, event.data.vtep);
      state.physical[id] = { id, version: event.seq, learned: event.type === 'bgp.PhysicalVtepLearned', tenant: event.tenant, kind: 'vtep', data: { ...event.data } };
      break;
    }
    case 'bgp.ApplianceSessionLimited': {
      const d = event.data;
      const before = state.sessionLimits[event.aggregate.id];
      const recent = before !== undefined && Date.parse(event.occurredAt) - Date.parse(before.at) < SESSION_LIMIT_MEMORY_MS;
      state.sessionLimits[event.aggregate.id] = { version: event.seq, gateway: d.gateway, peer: d.peer, trips: recent ? before.trips + 1 : 1, at: event.occurredAt };
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled bgp event ${(unreachable as BgpEvent).type}`);
    }
  }
  return state;
}

/**
 * Withdrawn routes whose damping history may be erased leave the state (at
 * the next recorded route change, so replay does the same). The next record
 * of such a route is decided against the version the store reports
 * (app/recorder.ts) and starts undamped.
 */
function forgetWithdrawn(state: BgpState, now: number): void {
  for (const r of Object.values(state.routes)) if (r.status === null && forgotten(r.damping, now)) delete state.routes[r.id];
}

function evolveIpam(state: BgpState, event: IpamFollowed): BgpState {
  const f = state.fabric;
  switch (event.type) {
    case 'ipam.NetworkCreated':
      f.networks[event.data.networkId] = {
        routed: event.data.routed,
        tenant: event.tenant,
        vni: event.data.vni,
        federated: event.data.federated ?? false,
        foreignVni: event.data.foreignVni ?? false,
      };
      break;
    case 'ipam.NetworkUpdated': {
      const n = f.networks[event.data.networkId];
      if (n && event.data.federated !== undefined) n.federated = event.data.federated;
      break;
    }
    case 'ipam.NetworkDeleted':
      delete f.networks[event.data.networkId];
      break;
    case 'ipam.HypervisorRegistered':
      f.hypervisors[event.data.hostId] = event.data.vtepIp;
      f.hostIps[event.data.hostId] = event.data.publicIp;
      break;
    case 'ipam.HypervisorDeregistered':
      delete f.hypervisors[event.data.hostId];
      delete f.hostIps[event.data.hostId];
      break;
    case 'ipam.ApplicationPrefixAllocated':
      f.appPrefixes[event.data.prefixId] = { prefix: event.data.prefix, tenant: event.tenant };
      break;
    case 'ipam.ApplicationPrefixReleased':
      delete f.appPrefixes[event.data.prefixId];
      break;
    case 'ipam.SubnetCreated':
      // Subnets live on their network's aggregate: its id is the network id.
      f.subnets[event.data.subnetId] = { networkId: event.aggregate.id, cidr: event.data.cidr, createdSeq: event.seq };
      break;
    case 'ipam.SubnetDeleted':
      delete f.subnets[event.data.subnetId];
      break;
    case 'ipam.PoolCreated':
      if (event.data.purpose === 'routed') f.routedPools[event.data.poolId] = event.data.cidr;
      break;
    case 'ipam.PoolDeleted':
      delete f.routedPools[event.data.poolId];
      break;
    case 'ipam.GatewayDeviceCreated': {
      const d = event.data;
      f.gatewayDevices[d.deviceId] = { kind: d.kind, vtepIp: d.vtepIp, bgp: d.bgp ? { ...d.bgp } : null };
      break;
    }
    case 'ipam.GatewayDeviceDeleted':
      delete f.gatewayDevices[event.data.deviceId];
      break;
    case 'ipam.GatewayBindingCreated':
    case 'ipam.GatewayBindingMoved': {
      const d = event.data;
      f.bindings[d.bindingId] = { deviceId: d.deviceId, networkId: d.networkId, vni: d.vni, tenant: d.tenant };
      break;
    }
    case 'ipam.GatewayBindingDeleted':
      delete f.bindings[event.data.bindingId];
      break;
    case 'ipam.PortCreated':
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted':
      applyPortEvent(f.ports, event);
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled ipam event ${(unreachable as IpamFollowed).type}`);
    }
  }
  return state;
}

function evolveSecgroup(state: BgpState, event: SecgroupFollowed): BgpState {
  const f = state.fabric;
  switch (event.type) {
    case 'secgroup.GroupCreated':
      if (event.data.federationTag !== undefined) f.taggedGroups[event.data.groupId] = { tenant: event.tenant, tag: event.data.federationTag };
      break;
    case 'secgroup.GroupUpdated': {
      const tag = event.data.federationTag;
      if (tag === null) delete f.taggedGroups[event.data.groupId];
      else if (tag !== undefined) f.taggedGroups[event.data.groupId] = { tenant: event.tenant, tag };
      break;
    }
    case 'secgroup.GroupDeleted':
      delete f.taggedGroups[event.data.groupId];
      break;
    case 'secgroup.PortGroupsSet':
      if (event.data.groupIds.length > 0) f.portGroups[event.data.portId] = [...event.data.groupIds];
      else delete f.portGroups[event.data.portId];
      break;
    case 'secgroup.PortForgotten':
      delete f.portGroups[event.data.portId];
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled secgroup event ${(unreachable as SecgroupFollowed).type}`);
    }
  }
  return state;
}

function evolveNat(state: BgpState, event: NatFipEvent): BgpState {
  if (event.type === 'nat.FloatingIpAssociated') {
    state.fabric.floatingIps[event.data.floatingIpId] = { address: event.data.address, portId: event.data.portId };
  } else {
    delete state.fabric.floatingIps[event.data.floatingIpId];
  }
  return state;
}
