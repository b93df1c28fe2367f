/**
 * Gateway devices and bindings as the IPAM input node holds them. Only a
 * `host` device's bindings are realised through host views (one
 * `<host>.l2gw.<binding>` key, and the network on that host); an `evpn` or
 * `ovsdb` device's bindings are the BGP gateway's and the vtep controller's
 * to realise, so here they are kept but place nothing on any host.
 *
 * A binding on a gateway host counts like a port of its network on that
 * host: the host needs the network's routing domain (needs.ts), and every
 * host that needs the network floods to the gateway host (topology.ts).
 */
import { addTo, removeFrom } from '../indexes.js';
import type { IpamInputEvent, IpamModel } from './ipam.js';

export interface GatewayDeviceRec {
  id: string;
  kind: 'evpn' | 'ovsdb' | 'host';
  vtepIp: string;
  /** The hypervisor of a `host` device; null for a switch. */
  hostId: string | null;
}

export interface GatewayBindingRec {
  id: string;
  deviceId: string;
  port: string;
  vlan: number;
  networkId: string;
  /** The gateway host realising it (its device's hypervisor); null on a switch. */
  hostId: string | null;
}

/** Where a binding was or is in the derivation's terms: its network and its gateway host (null: a switch). */
export interface BindingPlace {
  networkId: string;
  hostId: string | null;
}

export interface BindingMove {
  before: BindingPlace | null;
  after: BindingPlace | null;
}

export type GatewayInputEvent = Extract<IpamInputEvent, { type: `ipam.Gateway${string}` }>;

export const isGatewayEvent = (e: IpamInputEvent): e is GatewayInputEvent => e.type.startsWith('ipam.Gateway');

/** Fold a gateway event; a binding that came, went or moved is recorded in `bindings` and its networks in `networks` (their flood lists). */
export function applyGatewayEvent(ipam: IpamModel, event: GatewayInputEvent, out: { bindings: Map<string, BindingMove>; networks: Set<string> }): void {
  switch (event.type) {
    case 'ipam.GatewayDeviceCreated': {
      const d = event.data;
      ipam.gatewayDevices.set(d.deviceId, { id: d.deviceId, kind: d.kind, vtepIp: d.vtepIp, hostId: d.hostId ?? null });
      break;
    }
    case 'ipam.GatewayDeviceDeleted':
      ipam.gatewayDevices.delete(event.data.deviceId);
      break;
    case 'ipam.GatewayBindingCreated':
    case 'ipam.GatewayBindingMoved': {
      const d = event.data;
      const before = unindex(ipam, d.bindingId);
      const b: GatewayBindingRec = { id: d.bindingId, deviceId: d.deviceId, port: d.port, vlan: d.vlan, networkId: d.networkId, hostId: ipam.gatewayDevices.get(d.deviceId)?.hostId ?? null };
      ipam.gatewayBindings.set(b.id, b);
      index(ipam, b);
      record(out, b.id, before, { networkId: b.networkId, hostId: b.hostId });
      break;
    }
    case 'ipam.GatewayBindingDeleted': {
      const before = unindex(ipam, event.data.bindingId);
      ipam.gatewayBindings.delete(event.data.bindingId);
      if (before) record(out, event.data.bindingId, before, null);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know gateway event ${(unreachable as { type: string }).type}`);
    }
  }
}

function record(out: { bindings: Map<string, BindingMove>; networks: Set<string> }, id: string, before: BindingPlace | null, after: BindingPlace | null): void {
  out.bindings.set(id, { before: out.bindings.get(id)?.before ?? before, after });
  if (before) out.networks.add(before.networkId);
  if (after) out.networks.add(after.networkId);
}

function index(ipam: IpamModel, b: GatewayBindingRec): void {
  if (b.hostId === null) return;
  addTo(ipam.hostBindings, b.hostId, b.id);
  let hosts = ipam.networkGatewayHosts.get(b.networkId);
  if (!hosts) ipam.networkGatewayHosts.set(b.networkId, (hosts = new Map()));
  addTo(hosts, b.hostId, b.id);
}

/** Take a binding out of the indexes; returns where it was (null: not known). */
function unindex(ipam: IpamModel, id: string): BindingPlace | null {
  const b = ipam.gatewayBindings.get(id);
  if (!b) return null;
  if (b.hostId !== null) {
    removeFrom(ipam.hostBindings, b.hostId, b.id);
    const hosts = ipam.networkGatewayHosts.get(b.networkId);
    if (hosts) {
      removeFrom(hosts, b.hostId, b.id);
      if (hosts.size === 0) ipam.networkGatewayHosts.delete(b.networkId);
    }
  }
  return { networkId: b.networkId, hostId: b.hostId };
}

/**
 * A network that came or went under gateway bindings (the model is total:
 * IPAM refuses to delete a bound network, a replay may still meet it): its
 * gateway hosts gain or lose it, so their bindings count as changed.
 */
export function touchNetworkBindings(ipam: IpamModel, networkId: string, out: { bindings: Map<string, BindingMove> }): void {
  for (const ids of ipam.networkGatewayHosts.get(networkId)?.values() ?? []) {
    for (const id of ids) {
      const b = ipam.gatewayBindings.get(id)!;
      const place = { networkId: b.networkId, hostId: b.hostId };
      out.bindings.set(id, { before: out.bindings.get(id)?.before ?? place, after: place });
    }
  }
}

/** The networks of a gateway host's bindings (whose flood lists name its VTEP). */
export function gatewayNetworksOf(ipam: IpamModel, hostId: string): string[] {
  return [...(ipam.hostBindings.get(hostId) ?? [])].map((id) => ipam.gatewayBindings.get(id)!.networkId);
}
