/**
 * state + event → state, applied in stream order by every instance and by
 * replay; it mutates the state it is given (owned by one projection).
 *
 * Inputs (see `follow` in @strata/service-kit): status's own liveness
 * events; IPAM's hypervisors, port lifecycle (the shared `applyPortEvent`,
 * whatever types it grows: an admin-state change folds there too), networks
 * and routers; secgroup's groups; chaining's chains. Some followed types only
 * name a resource whose realisation they change (a rule added, a port's
 * groups set): the fold keeps nothing of them, the service tracks the
 * resource (domain/tracking.ts).
 */
import {
  applyPortEvent,
  CHAINING_CONTEXT,
  chainingEvents,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  ipamEvents,
  SECGROUP_CONTEXT,
  secgroupEvents,
  STATUS_CONTEXT,
  statusEvents,
  type IpamPortEvent,
} from '@strata/contracts';
import { eventTypes, follow, ownEvents, type Follower } from '@strata/service-kit';
import type { StatusState } from './state.js';

const IPAM_TYPES = [
  'ipam.HypervisorRegistered',
  'ipam.HypervisorDeregistered',
  'ipam.NetworkCreated',
  'ipam.NetworkDeleted',
  'ipam.RouterCreated',
  'ipam.RouterDeleted',
  'ipam.RouterInterfaceAdded',
  'ipam.RouterInterfaceRemoved',
  'ipam.PortAllowedAddressPairsSet',
] as const;
const SECGROUP_TYPES = [
  'secgroup.GroupCreated',
  'secgroup.GroupDeleted',
  'secgroup.RuleAdded',
  'secgroup.RuleRemoved',
  'secgroup.PortGroupsSet',
  'secgroup.PortSecuritySet',
] as const;
const CHAINING_TYPES = ['chaining.ChainCreated', 'chaining.ChainDeleted'] as const;

/** What the status state is folded from. */
export const statusFollows = follow(
  ownEvents(STATUS_CONTEXT, statusEvents),
  eventTypes(IPAM_CONTEXT, ipamEvents, [...IPAM_PORT_EVENT_TYPES, ...IPAM_TYPES]),
  eventTypes(SECGROUP_CONTEXT, secgroupEvents, SECGROUP_TYPES),
  eventTypes(CHAINING_CONTEXT, chainingEvents, CHAINING_TYPES),
);

/** The decoded events the fold sees. */
export type StatusFollowed = typeof statusFollows extends Follower<infer E> ? E : never;

/** Is this stored event one the status state (or its tracking of changed resources) depends on? */
export const isRelevant = statusFollows.isRelevant;

/** Fold one stored event of the domain stream: decode what status reads, skip the rest (only its sequence counts). */
export const applyStored = statusFollows.fold(evolve);

const PORT_TYPES: ReadonlySet<string> = new Set(IPAM_PORT_EVENT_TYPES);
const isPortEvent = (event: StatusFollowed): event is IpamPortEvent => PORT_TYPES.has(event.type);

export function evolve(state: StatusState, event: StatusFollowed): StatusState {
  state.seq = event.seq;
  if (isPortEvent(event)) {
    applyPortEvent(state.ports, event);
    return state;
  }
  const owners = state.owners;
  switch (event.type) {
    case 'status.HypervisorAgentDown':
      state.liveness[event.data.hostId] = { alive: false, since: event.occurredAt, bootId: event.data.bootId, version: event.seq };
      break;
    case 'status.HypervisorAgentUp':
      state.liveness[event.data.hostId] = { alive: true, since: event.occurredAt, bootId: event.data.bootId, version: event.seq };
      break;
    case 'ipam.HypervisorRegistered':
      state.hypervisors[event.data.hostId] = { hostId: event.data.hostId };
      break;
    case 'ipam.HypervisorDeregistered':
      delete state.hypervisors[event.data.hostId];
      break;
    case 'ipam.NetworkCreated':
      owners.network[event.data.networkId] = event.tenant;
      break;
    case 'ipam.NetworkDeleted':
      delete owners.network[event.data.networkId];
      break;
    case 'ipam.RouterCreated':
      owners.router[event.data.routerId] = event.tenant;
      break;
    case 'ipam.RouterDeleted':
      delete owners.router[event.data.routerId];
      break;
    case 'secgroup.GroupCreated':
      owners['security-group'][event.data.groupId] = event.tenant;
      break;
    case 'secgroup.GroupDeleted':
      delete owners['security-group'][event.data.groupId];
      break;
    case 'chaining.ChainCreated':
      owners.chain[event.data.chainId] = event.tenant;
      break;
    case 'chaining.ChainDeleted':
      delete owners.chain[event.data.chainId];
      break;
    // Tracked only (they change where a resource's keys are, not who owns what): see domain/tracking.ts.
    case 'ipam.RouterInterfaceAdded':
    case 'ipam.RouterInterfaceRemoved':
    case 'ipam.PortAllowedAddressPairsSet':
    case 'secgroup.RuleAdded':
    case 'secgroup.RuleRemoved':
    case 'secgroup.PortGroupsSet':
    case 'secgroup.PortSecuritySet':
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}
