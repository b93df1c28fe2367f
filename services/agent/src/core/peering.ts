/**
 * VPC peering on this host (docs/architecture.md, "VPC peering (issue
 * 20)"): per peering segment a router of the view is on, the segment's
 * bridge `sbr<VNI>`, and per such router a veth `spp…` ↔ `qp<VNI>` whose
 * domain end, in the router's namespace, carries the router's transit
 * address and MAC, with permanent neighbours for the other routers on the
 * segment. The routes to the peers' prefixes go out of `qp<VNI>`
 * (router-routes.ts). Pure.
 *
 * The host has every router that shares a segment with one of its routers
 * (hostview), so a packet from a local VM to a peer's prefix goes router →
 * segment bridge → peer router → the peer's network, all on this host, and
 * leaves it over the peer network's VXLAN like any routed packet. Nothing
 * crosses hosts on the segment itself: it has no VXLAN device.
 */
import { bridgeMac, bridgeName, domainNamespace, linkAlias, peeringDomainEnd, peeringHostEnd } from './names.js';
import type { HostViewSnapshot } from './snapshot.js';
import { addrKey, HOST_NS, linkKey, neighKey, type KernelState, type LinkState } from './types.js';

/** The transit MTU when no network of the segment's routers is in the view (the default network MTU). */
const DEFAULT_MTU = 1450;

/** Add the peering links of the view's routers to `kernel`, whose domain namespaces desiredOverlay made (a router without one here is skipped). */
export function addPeerings(view: HostViewSnapshot, kernel: KernelState, nsPrefix: string): void {
  const base = { up: true, mac: null, vxlan: null, peer: null, brport: null } as const;
  const link = (l: LinkState): void => void (kernel.links[linkKey(l.ns, l.name)] = l);
  // segment id → the routers on it here, for its bridge's MTU and existence.
  const segments = new Map<string, { vni: number; mtu: number }>();
  const domains = Object.values(view.domains).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const domain of domains) {
    const ns = domainNamespace(nsPrefix, domain.id);
    if (!domain.peerings?.length || !kernel.namespaces[ns]) continue;
    // Packets leave the transit link into the router's networks: no larger than the largest of them.
    const mtus = Object.values(view.networks).filter((n) => n.domainId === domain.id).map((n) => n.mtu);
    const mtu = mtus.length ? Math.max(...mtus) : DEFAULT_MTU;
    for (const p of domain.peerings) {
      const seg = segments.get(p.segmentId) ?? { vni: p.vni, mtu: 0 };
      seg.mtu = Math.max(seg.mtu, mtu);
      segments.set(p.segmentId, seg);
      const br = bridgeName(p.vni);
      const hostEnd = peeringHostEnd(p.attachmentId);
      const domainEnd = peeringDomainEnd(p.vni);
      const alias = linkAlias('peering', p.attachmentId);
      link({ ...base, ns: HOST_NS, name: hostEnd, kind: 'veth', mtu, master: br, alias, peer: { ns, name: domainEnd } });
      link({ ...base, ns, name: domainEnd, kind: 'veth', mtu, master: null, alias, mac: p.mac.toLowerCase(), peer: { ns: HOST_NS, name: hostEnd } });
      const length = p.cidr.split('/')[1] ?? '32';
      const addr = { ns, dev: domainEnd, cidr: `${p.ip}/${length}` };
      kernel.addrs[addrKey(addr)] = addr;
      // The peers' transit addresses: answered from the control plane's data, never by ARP on the segment.
      for (const n of p.neighbours) kernel.neighs[neighKey({ ns, dev: domainEnd, ip: n.ip })] = { ns, dev: domainEnd, ip: n.ip, mac: n.mac.toLowerCase() };
    }
  }
  for (const [segmentId, { vni, mtu }] of segments) {
    link({ ...base, ns: HOST_NS, name: bridgeName(vni), kind: 'bridge', mtu, master: null, alias: linkAlias('bridge', segmentId), mac: bridgeMac(vni) });
  }
}
