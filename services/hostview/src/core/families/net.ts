/**
 * `<H>.net.<N>` (HostNetwork): a network H needs (H has a port in its
 * routing domain); `floodVteps` are the other registered hosts with ports
 * on N, not hosts that only route into it, and the VTEPs of gateway devices
 * flooding N's VNI (inputs/physical.ts: a switch's EVPN type-3 route).
 */
import { gatewayMac, hostviewKey, presentIpv6Modes, type HostNetwork, type SubnetInfo } from '@strata/contracts';
import type { Change, Model } from '../model.js';
import { gatewayNetworksOf } from '../inputs/gateway.js';
import { domainOf, hostsNeeding, hostsOnNetwork } from '../topology.js';
import { networksOfVni, physicalFloodVteps } from '../inputs/physical.js';
import { stringify, type KeyFamily } from './family.js';

export const netFamily: KeyFamily<'net'> = {
  kind: 'net',
  putOrder: 2,
  value(model, k, needs): HostNetwork | undefined {
    const { ipam } = model;
    const n = ipam.networks.get(k.id);
    if (!n || !needs.networks.has(n.id)) return undefined;
    const subnets: SubnetInfo[] = [];
    for (const id of [...n.subnets].sort()) {
      const s = ipam.subnets.get(id)!;
      subnets.push({
        cidr: s.cidr,
        ...(s.dnsNameservers.length ? { dnsNameservers: [...s.dnsNameservers] } : {}),
        enableDhcp: s.enableDhcp,
        gatewayIp: s.gatewayIp,
        ...(s.hostRoutes.length ? { hostRoutes: s.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })) } : {}),
        id: s.id,
        ipVersion: s.ipVersion,
        ...presentIpv6Modes(s),
      });
    }
    const vteps = new Set<string>();
    for (const g of hostsOnNetwork(ipam, n.id)) if (g !== k.hostId) vteps.add(ipam.hypervisors.get(g)!.vtepIp);
    for (const v of physicalFloodVteps(model, n.vni)) vteps.add(v);
    return {
      domainId: domainOf(ipam, n.id),
      floodVteps: [...vteps].sort(),
      gatewayMac: gatewayMac(n.vni),
      id: n.id,
      mtu: n.mtu,
      ...(n.routed ? { routed: true } : {}),
      subnets,
      tenant: n.tenant,
      vni: n.vni,
    };
  },
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const id of needs.networks) put(hostviewKey.net(hostId, id), this.value(model, { hostId, id, portId: '' }, needs));
  },
  hosts(model, change, add) {
    for (const n of networksTouched(model, change)) for (const h of hostsNeeding(model.ipam, n)) add(h);
  },
  touched(model, hostId, change, _needs, add) {
    for (const n of networksTouched(model, change)) add(hostviewKey.net(hostId, n));
  },
};

/**
 * Networks whose value can have changed: changed networks, the networks of
 * ports that came, went or moved (flood lists), and the networks of the
 * ports and gateway bindings of a hypervisor that came or went (its VTEP in
 * their flood lists).
 */
function networksTouched(model: Model, change: Change): Set<string> {
  const networks = new Set(change.ipam.networks);
  for (const vni of change.physical.vnis) for (const n of networksOfVni(model, vni)) networks.add(n);
  for (const { before, after } of change.ipam.ports.values()) {
    if (before) networks.add(before.networkId);
    if (after) networks.add(after.networkId);
  }
  for (const g of change.ipam.hosts) {
    for (const portId of model.ipam.hostPorts.get(g) ?? []) {
      const p = model.ipam.ports.get(portId);
      if (p) networks.add(p.networkId);
    }
    // A gateway host's VTEP is in its bound networks' flood lists too.
    for (const n of gatewayNetworksOf(model.ipam, g)) networks.add(n);
  }
  return networks;
}
