/**
 * The software L2 gateway (docs/architecture.md, "Gateway devices, bindings
 * and the software gateway"): on a gateway host, each `l2gw` key of the view
 * is a VLAN device on the trunk NIC the binding names (in the host's
 * namespace), a port of the bound network's bridge. Unlike the VXLAN port,
 * it learns (the physical side's MACs are learned there, as on any switch)
 * and does not suppress ARP/ND: the servers behind it answer for
 * themselves. Hypervisors flood the segment's unknown traffic to this host
 * (it is in the network's flood list), so their frames for a physical MAC
 * reach the VLAN through this bridge.
 */
import { bridgeName, l2gwVlanName, linkAlias } from './names.js';
import type { HostViewSnapshot } from './snapshot.js';
import { DEFAULT_BRPORT, HOST_NS, linkKey, type KernelState } from './types.js';

/** Add the VLAN devices of the view's gateway bindings to `kernel` (whose bridges desiredOverlay made). */
export function addL2Gateways(view: HostViewSnapshot, kernel: KernelState): void {
  for (const b of Object.values(view.l2gateways)) {
    const net = view.networks[b.networkId];
    // The binding's network is in the view with it (hostview); until it is, there is no bridge to join.
    if (!net) continue;
    const name = l2gwVlanName(b.nic, b.vlan);
    kernel.links[linkKey(HOST_NS, name)] = {
      ns: HOST_NS,
      name,
      kind: 'vlan',
      mtu: net.mtu,
      up: true,
      master: bridgeName(net.vni),
      alias: linkAlias('l2gw', b.id),
      mac: null,
      vxlan: null,
      peer: null,
      // The kernel's defaults for a new bridge port: learning on, neighbour suppression off.
      brport: DEFAULT_BRPORT,
      vlan: { parent: b.nic, id: b.vlan },
    };
  }
}
