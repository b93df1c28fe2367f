/** `<H>.ep.<p>` (RemoteEndpoint): a port on a network H needs, bound to another registered host. */
import { hostviewKey, type RemoteEndpoint } from '@strata/contracts';
import type { Change, Model } from '../model.js';
import { hostsNeeding } from '../topology.js';
import type { HostNeeds } from '../needs.js';
import { ownedAddressesOf, stringify, type KeyFamily } from './family.js';

export const epFamily: KeyFamily<'ep'> = {
  kind: 'ep',
  putOrder: 6,
  value: (model, k, needs) => endpointValue(model, k.hostId, k.id, needs),
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const networkId of needs.networks) {
      for (const [g, ports] of model.ipam.networks.get(networkId)!.hostPorts) {
        if (g === hostId || !model.ipam.hypervisors.has(g)) continue;
        for (const id of ports) put(hostviewKey.ep(hostId, id), endpointValue(model, hostId, id, needs));
      }
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
    for (const n of networks) for (const h of hostsNeeding(model.ipam, n)) add(h);
  },
  touched(model, hostId, change, _needs, add) {
    for (const portId of portsTouched(model, change)) add(hostviewKey.ep(hostId, portId));
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
