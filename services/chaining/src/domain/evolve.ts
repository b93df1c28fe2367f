/**
 * state + event → state, applied in stream order by every instance and by
 * replay; it mutates the state it is given (owned by one projection).
 *
 * Inputs, read in one total order (see `follow` in @strata/service-kit):
 * chaining's own events; IPAM's port lifecycle (the shared `applyPortEvent`)
 * with the ports' allowed address pairs (`applyAddressPairsEvent`), routers
 * and their interfaces; secgroup's groups (what a classifier may name).
 */
import {
  applyAddressPairsEvent,
  applyPortEvent,
  CHAINING_CONTEXT,
  chainingEvents,
  ipamEvents,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  SECGROUP_CONTEXT,
  secgroupEvents,
  type ChainingEvent,
  type IpamEvent,
  type IpamPortEvent,
  type SecgroupEvent,
} from '@strata/contracts';
import { applyUpdate, eventTypes, follow, ownEvents } from '@strata/service-kit';
import type { ChainingState, ResourceKind } from './state.js';

const IPAM_PAIR_TYPES = ['ipam.PortAllowedAddressPairsSet'] as const;
const IPAM_ROUTER_TYPES = ['ipam.RouterCreated', 'ipam.RouterDeleted', 'ipam.RouterInterfaceAdded', 'ipam.RouterInterfaceRemoved'] as const;
const SECGROUP_GROUP_TYPES = ['secgroup.GroupCreated', 'secgroup.GroupDeleted'] as const;

/** What chaining's state is folded from. */
export const chainingFollows = follow(
  ownEvents(CHAINING_CONTEXT, chainingEvents),
  eventTypes(IPAM_CONTEXT, ipamEvents, [...IPAM_PORT_EVENT_TYPES, ...IPAM_PAIR_TYPES, ...IPAM_ROUTER_TYPES]),
  eventTypes(SECGROUP_CONTEXT, secgroupEvents, SECGROUP_GROUP_TYPES),
);

type Followed =
  | ChainingEvent
  | IpamPortEvent
  | Extract<IpamEvent, { type: (typeof IPAM_PAIR_TYPES)[number] | (typeof IPAM_ROUTER_TYPES)[number] }>
  | Extract<SecgroupEvent, { type: (typeof SECGROUP_GROUP_TYPES)[number] }>;

/** Is this stored event one chaining's state depends on? */
export const isRelevant = chainingFollows.isRelevant;

/** Fold one stored event of the domain stream: decode what chaining reads, skip the rest (only its sequence counts). */
export const applyStored = chainingFollows.fold(evolve);

export function evolve(state: ChainingState, event: Followed): ChainingState {
  state.seq = event.seq;
  const createdAt = event.occurredAt;
  switch (event.type) {
    case 'chaining.ServiceFunctionCreated': {
      const d = event.data;
      state.functions[d.functionId] = {
        id: d.functionId,
        tenant: event.tenant,
        name: d.name,
        description: d.description,
        ingressPortId: d.ingressPortId,
        egressPortId: d.egressPortId,
        mode: d.mode,
        virtualIp: d.virtualIp,
        healthCheck: d.healthCheck,
        healthy: true,
        createdAt,
        revision: 1,
        version: event.seq,
      };
      break;
    }
    case 'chaining.ServiceFunctionUpdated': {
      const { functionId, ...changed } = event.data;
      applyUpdate(state.functions[functionId], { ...changed, version: event.seq });
      break;
    }
    case 'chaining.ServiceFunctionDeleted':
      forget(state, 'function', state.functions, event.data.functionId, event.seq);
      break;
    case 'chaining.FunctionHealthChanged': {
      const f = state.functions[event.data.functionId];
      if (!f) break;
      f.healthy = event.data.healthy;
      f.revision++;
      f.version = event.seq;
      break;
    }
    case 'chaining.FunctionGroupCreated': {
      const d = event.data;
      state.groups[d.groupId] = {
        id: d.groupId,
        tenant: event.tenant,
        name: d.name,
        description: d.description,
        functionIds: d.functionIds,
        selection: d.selection,
        fallback: d.fallback,
        activeFunctionId: null,
        createdAt,
        revision: 1,
        version: event.seq,
      };
      break;
    }
    case 'chaining.FunctionGroupUpdated': {
      const { groupId, ...changed } = event.data;
      applyUpdate(state.groups[groupId], { ...changed, version: event.seq });
      break;
    }
    case 'chaining.FunctionGroupDeleted':
      forget(state, 'group', state.groups, event.data.groupId, event.seq);
      break;
    case 'chaining.ActiveFunctionChanged': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      g.activeFunctionId = event.data.functionId;
      g.revision++;
      g.version = event.seq;
      break;
    }
    case 'chaining.FlowClassifierCreated': {
      const c = event.data.classifier;
      state.classifiers[c.id] = { ...c, tenant: event.tenant, name: event.data.name, description: event.data.description, createdAt, revision: 1, version: event.seq };
      break;
    }
    case 'chaining.FlowClassifierUpdated': {
      const { classifierId, ...changed } = event.data;
      applyUpdate(state.classifiers[classifierId], { ...changed, version: event.seq });
      break;
    }
    case 'chaining.FlowClassifierDeleted':
      forget(state, 'classifier', state.classifiers, event.data.classifierId, event.seq);
      break;
    case 'chaining.ChainCreated': {
      const d = event.data;
      state.chains[d.chainId] = {
        id: d.chainId,
        tenant: event.tenant,
        name: d.name,
        description: d.description,
        routerId: d.routerId,
        groupIds: d.groupIds,
        classifierIds: d.classifierIds,
        symmetric: d.symmetric,
        createdAt,
        revision: 1,
        version: event.seq,
      };
      break;
    }
    case 'chaining.ChainUpdated': {
      const { chainId, ...changed } = event.data;
      applyUpdate(state.chains[chainId], { ...changed, version: event.seq });
      break;
    }
    case 'chaining.ChainDeleted':
      forget(state, 'chain', state.chains, event.data.chainId, event.seq);
      break;
    case 'ipam.PortCreated':
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted':
      applyPortEvent(state.ports, event);
      break;
    case 'ipam.PortAllowedAddressPairsSet':
      applyAddressPairsEvent(state.ports, event);
      break;
    case 'ipam.RouterCreated':
      state.routers[event.data.routerId] = { id: event.data.routerId, tenant: event.tenant, subnets: {} };
      break;
    case 'ipam.RouterDeleted':
      delete state.routers[event.data.routerId];
      break;
    case 'ipam.RouterInterfaceAdded': {
      const r = state.routers[event.data.routerId];
      if (r) r.subnets[event.data.subnetId] = event.data.networkId;
      break;
    }
    case 'ipam.RouterInterfaceRemoved':
      delete state.routers[event.data.routerId]?.subnets[event.data.subnetId];
      break;
    case 'secgroup.GroupCreated':
      state.securityGroups[event.data.groupId] = { id: event.data.groupId, tenant: event.tenant };
      break;
    case 'secgroup.GroupDeleted':
      delete state.securityGroups[event.data.groupId];
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

/** A deleted resource leaves a tombstone with its aggregate's last sequence. */
function forget<T>(state: ChainingState, kind: ResourceKind, map: Record<string, T>, id: string, seq: number): void {
  if (!(id in map)) return;
  delete map[id];
  state.tombstones[`${kind}/${id}`] = seq;
}
