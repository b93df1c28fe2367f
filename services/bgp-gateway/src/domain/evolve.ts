/**
 * state + event → state, applied in stream order by every instance and by
 * replay; mutates the state it is given (owned by one projection).
 *
 * Three inputs: the gateway's own events, IPAM's (hypervisors, networks,
 * subnets, ports, application prefixes) and NAT's floating-IP associations.
 * nats-server 2.9 consumers take one filter subject, so the projection reads
 * the whole stream in order and skips the rest undecoded (as secgroup does).
 */
import {
  BGP_CONTEXT,
  bgpEvents,
  IPAM_CONTEXT,
  ipamEvents,
  NAT_CONTEXT,
  natEvents,
  routeAggregateId,
  type BgpEvent,
  type IpamEvent,
} from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { charge, flapCost, forgotten, UNDAMPED } from './damping.js';
import type { BgpState } from './state.js';

/** A gateway's limit trips further apart than this start its re-enable backoff afresh. */
export const SESSION_LIMIT_MEMORY_MS = 60 * 60_000;

const IPAM_FOLLOWED = new Set([
  'ipam.NetworkCreated',
  'ipam.NetworkDeleted',
  'ipam.HypervisorRegistered',
  'ipam.HypervisorDeregistered',
  'ipam.ApplicationPrefixAllocated',
  'ipam.ApplicationPrefixReleased',
  'ipam.SubnetCreated',
  'ipam.SubnetDeleted',
  'ipam.PortCreated',
  'ipam.PortBound',
  'ipam.PortDeleted',
]);
const NAT_FOLLOWED = new Set(['nat.FloatingIpAssociated', 'nat.FloatingIpDisassociated']);

type NatFipEvent = Extract<ReturnType<typeof natEvents.decode>, { type: 'nat.FloatingIpAssociated' | 'nat.FloatingIpDisassociated' }>;

/** Is this stored event one the gateway's state depends on? */
export function isRelevant(event: Pick<StoredEvent, 'type' | 'aggregate'>): boolean {
  switch (event.aggregate.context) {
    case BGP_CONTEXT:
      return true;
    case IPAM_CONTEXT:
      return IPAM_FOLLOWED.has(event.type);
    case NAT_CONTEXT:
      return NAT_FOLLOWED.has(event.type);
    default:
      return false;
  }
}

export function applyStored(state: BgpState, stored: StoredEvent): BgpState {
  state.seq = stored.seq;
  if (!isRelevant(stored)) return state;
  switch (stored.aggregate.context) {
    case BGP_CONTEXT:
      return evolve(state, bgpEvents.decode(stored));
    case IPAM_CONTEXT:
      return evolveIpam(state, ipamEvents.decode(stored), stored.aggregate.id);
    default:
      return evolveNat(state, natEvents.decode(stored) as NatFipEvent);
  }
}

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
      config.peers[peerId] = { id: peerId, ...rest, createdAt: event.occurredAt };
      break;
    }
    case 'bgp.PeerRemoved':
      delete config.peers[event.data.peerId];
      break;
    case 'bgp.PeerGroupAdded': {
      const { groupId, ...rest } = event.data;
      config.groups[groupId] = { id: groupId, ...rest, createdAt: event.occurredAt };
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

function evolveIpam(state: BgpState, event: IpamEvent, aggregateId: string): BgpState {
  const f = state.fabric;
  switch (event.type) {
    case 'ipam.NetworkCreated':
      f.networks[event.data.networkId] = { routed: event.data.routed, tenant: event.tenant };
      break;
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
    // Subnet and port events live on the network's aggregate: its id is the network id.
    case 'ipam.SubnetCreated':
      f.subnets[event.data.subnetId] = { networkId: aggregateId, cidr: event.data.cidr };
      break;
    case 'ipam.SubnetDeleted':
      delete f.subnets[event.data.subnetId];
      break;
    case 'ipam.PortCreated': {
      const d = event.data;
      f.ports[d.portId] = { id: d.portId, networkId: aggregateId, hostId: d.hostId, deviceId: d.deviceId, ips: d.fixedIps.map((x) => x.ip), claimedAt: event.seq };
      break;
    }
    case 'ipam.PortBound': {
      const p = f.ports[event.data.portId];
      if (p) p.hostId = event.data.hostId;
      break;
    }
    case 'ipam.PortDeleted':
      delete f.ports[event.data.portId];
      break;
    default:
      break;
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
