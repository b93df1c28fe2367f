/**
 * state + event → state, in stream order, for every instance and replay
 * (mutates the state it is given). Two inputs: the controller's own events
 * and IPAM's gateway devices, bindings, hypervisors and port lifecycle.
 */
import {
  applyPortEvent,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  ipamEvents,
  VTEP_CONTEXT,
  vtepEvents,
  type IpamEvent,
  type IpamPortEvent,
  type VtepEvent,
} from '@strata/contracts';
import { eventTypes, follow, ownEvents } from '@strata/service-kit';
import { macKey, vtepKey, type VtepState } from './state.js';

export const vtepFollows = follow(
  ownEvents(VTEP_CONTEXT, vtepEvents),
  eventTypes(IPAM_CONTEXT, ipamEvents, [
    ...IPAM_PORT_EVENT_TYPES,
    'ipam.HypervisorRegistered',
    'ipam.HypervisorDeregistered',
    'ipam.GatewayDeviceCreated',
    'ipam.GatewayDeviceDeleted',
    'ipam.GatewayBindingCreated',
    'ipam.GatewayBindingMoved',
    'ipam.GatewayBindingDeleted',
  ]),
);

type IpamFollowed =
  | IpamPortEvent
  | Extract<
      IpamEvent,
      {
        type:
          | 'ipam.HypervisorRegistered'
          | 'ipam.HypervisorDeregistered'
          | 'ipam.GatewayDeviceCreated'
          | 'ipam.GatewayDeviceDeleted'
          | 'ipam.GatewayBindingCreated'
          | 'ipam.GatewayBindingMoved'
          | 'ipam.GatewayBindingDeleted';
      }
    >;

export const isRelevant = vtepFollows.isRelevant;
export const applyStored = vtepFollows.fold(evolve);

export function evolve(state: VtepState, event: VtepEvent | IpamFollowed): VtepState {
  state.seq = event.seq;
  switch (event.type) {
    case 'vtep.PhysicalMacLearned':
      (state.macs[event.data.deviceId] ??= {})[macKey(event.data)] = event.data;
      state.versions[event.aggregate.id] = event.seq;
      break;
    case 'vtep.PhysicalMacWithdrawn':
      delete state.macs[event.data.deviceId]?.[macKey(event.data)];
      state.versions[event.aggregate.id] = event.seq;
      break;
    case 'vtep.PhysicalVtepLearned':
      (state.vteps[event.data.deviceId] ??= {})[vtepKey(event.data)] = event.data;
      state.versions[event.aggregate.id] = event.seq;
      break;
    case 'vtep.PhysicalVtepWithdrawn':
      delete state.vteps[event.data.deviceId]?.[vtepKey(event.data)];
      state.versions[event.aggregate.id] = event.seq;
      break;
    case 'ipam.HypervisorRegistered':
      state.hypervisors[event.data.hostId] = event.data.vtepIp;
      break;
    case 'ipam.HypervisorDeregistered':
      delete state.hypervisors[event.data.hostId];
      break;
    case 'ipam.GatewayDeviceCreated': {
      const d = event.data;
      if (d.kind === 'ovsdb' && d.ovsdb) state.devices[d.deviceId] = { id: d.deviceId, name: d.name, vtepIp: d.vtepIp, target: d.ovsdb.target };
      break;
    }
    case 'ipam.GatewayDeviceDeleted':
      delete state.devices[event.data.deviceId];
      break;
    case 'ipam.GatewayBindingCreated':
    case 'ipam.GatewayBindingMoved': {
      const d = event.data;
      // A binding moved to a device of another kind is no longer ours.
      if (state.devices[d.deviceId]) state.bindings[d.bindingId] = { id: d.bindingId, deviceId: d.deviceId, port: d.port, vlan: d.vlan, networkId: d.networkId, vni: d.vni };
      else delete state.bindings[d.bindingId];
      break;
    }
    case 'ipam.GatewayBindingDeleted':
      delete state.bindings[event.data.bindingId];
      break;
    case 'ipam.PortCreated':
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted':
      applyPortEvent(state.ports, event);
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled vtep event ${(unreachable as VtepEvent).type}`);
    }
  }
  return state;
}
