/**
 * `<H>.ep.<p>` (RemoteEndpoint): a port on a network H needs, bound to
 * another registered host; and `<H>.ep.phys-<device>-<mac>`: a MAC a gateway
 * device learned on its physical side on that network's VNI, behind the
 * device's VTEP (inputs/physical.ts): the agent programs both alike (FDB and
 * neighbour entries), so hypervisors send to a bare-metal server straight to
 * its switch and answer ARP for it locally.
 */
import { hostviewKey, type RemoteEndpoint } from '@strata/contracts';
import type { Change, Model } from '../model.js';
import { hostsNeeding } from '../topology.js';
import type { HostNeeds } from '../needs.js';
import { endpointIps, networksOfVni, physicalEndpoint, physicalEndpointsOf, vniOfEndpointId, type PhysicalEndpoint } from '../inputs/physical.js';
import { ownedAddressesOf, stringify, type KeyFamily } from './family.js';

const PHYSICAL = 'phys-';

export const epFamily: KeyFamily<'ep'> = {
  kind: 'ep',
  putOrder: 6,
  value: (model, k, needs) => (k.id.startsWith(PHYSICAL) ? physicalValue(model, k.hostId, k.id, needs) : endpointValue(model, k.hostId, k.id, needs)),
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const networkId of needs.networks) {
      for (const [g, ports] of model.ipam.networks.get(networkId)!.hostPorts) {
        if (g === hostId || !model.ipam.hypervisors.has(g)) continue;
        for (const id of ports) put(hostviewKey.ep(hostId, id), endpointValue(model, hostId, id, needs));
      }
      const n = model.ipam.networks.get(networkId)!;
      if (physicalNetwork(model, n.vni, needs) !== networkId) continue;
      for (const ep of physicalEndpointsOf(model, n.vni)) if (!ownVtep(model, hostId, ep)) put(hostviewKey.ep(hostId, ep.id), physicalRemote(ep, networkId));
    }
  },
  hosts(model, change, add) {
    const networks = new Set<string>();
    for (const portId of portsTouched(model, change)) {
      const move = change.ipam.ports.get(portId);
      if (move?.before) networks.add(move.before.networkId);
      if (move?.after) networks.add(move.after.networkId);
      const p = model.ipam.ports.get(portId);
      if (p) networks.add(p.networkId);
    }
    for (const vni of change.physical.vnis) for (const n of networksOfVni(model, vni)) networks.add(n);
    // A network re-created with another VNI has other physical endpoints.
    if (model.physical.endpoints.size > 0) for (const n of change.ipam.networks) networks.add(n);
    for (const n of networks) for (const h of hostsNeeding(model.ipam, n)) add(h);
  },
  touched(model, hostId, change, _needs, add) {
    for (const portId of portsTouched(model, change)) add(hostviewKey.ep(hostId, portId));
    for (const id of change.physical.endpoints) add(hostviewKey.ep(hostId, id));
    // A changed network (its VNI, or gone) may have left or gained any physical endpoint: rare, and bounded by them.
    if (change.ipam.networks.size > 0) for (const byId of model.physical.endpoints.values()) for (const id of byId.keys()) add(hostviewKey.ep(hostId, id));
  },
};

/** Ports whose endpoint can have changed: ports that came, went or moved, whose owned addresses changed, and the ports of a hypervisor that came or went. */
function portsTouched(model: Model, change: Change): string[] {
  const ports = [...change.ipam.ports.keys(), ...change.ipam.pairs];
  for (const g of change.ipam.hosts) for (const p of model.ipam.hostPorts.get(g) ?? []) ports.push(p);
  return ports;
}

/** Positional, so the full recompute allocates no key object per endpoint. */
function endpointValue(model: Model, hostId: string, portId: string, needs: HostNeeds): RemoteEndpoint | undefined {
  const p = model.ipam.ports.get(portId);
  if (!p || p.hostId === null || p.hostId === hostId || !needs.networks.has(p.networkId)) return undefined;
  const g = model.ipam.hypervisors.get(p.hostId);
  if (!g) return undefined;
  return { id: p.id, ips: p.fixedIps.map((f) => f.ip), mac: p.mac, networkId: p.networkId, ...ownedAddressesOf(model, p), vtep: g.vtepIp };
}

/** A physical endpoint on its VNI's network, if the host needs it. */
function physicalValue(model: Model, hostId: string, id: string, needs: HostNeeds): RemoteEndpoint | undefined {
  const vni = vniOfEndpointId(id);
  const ep = vni === undefined ? undefined : physicalEndpoint(model, vni, id);
  if (ep && ownVtep(model, hostId, ep)) return undefined;
  const networkId = ep && physicalNetwork(model, ep.vni, needs);
  return networkId === undefined ? undefined : physicalRemote(ep!, networkId);
}

/**
 * A MAC behind the host's own VTEP (a `host` gateway device's, learned in
 * its own bridge) is local there: a RemoteEndpoint would tunnel it to itself.
 */
const ownVtep = (model: Model, hostId: string, ep: PhysicalEndpoint): boolean => model.ipam.hypervisors.get(hostId)?.vtepIp === ep.vtep;

/** The network a host realises a VNI's physical endpoints on: of the networks it needs carrying the VNI (one, unless a log IPAM would refuse), the lowest id. */
function physicalNetwork(model: Model, vni: number, needs: HostNeeds): string | undefined {
  let out: string | undefined;
  for (const id of needs.networks) if (model.ipam.networks.get(id)?.vni === vni && (out === undefined || id < out)) out = id;
  return out;
}

const physicalRemote = (ep: PhysicalEndpoint, networkId: string): RemoteEndpoint => ({ id: ep.id, ips: endpointIps(ep), mac: ep.mac, networkId, vtep: ep.vtep });
