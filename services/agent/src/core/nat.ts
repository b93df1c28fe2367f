/**
 * Floating IPs and outbound PNAT → kernel state. Pure.
 *
 * All NAT happens on the VM's own hypervisor, in two places:
 *
 *   domain namespace (the tenant router on this host), table `ip strata`:
 *     prerouting   dnat to ip daddr map @fip_dnat        floating IP → fixed IP (1:1)
 *     postrouting  oifname "ext" snat to ip saddr map @fip_snat   fixed IP → its floating IP
 *                  oifname "ext" masquerade             (external gateway) the rest → transit address
 *     forward      (guard) only replies and DNAT-ed flows come in from ext; only translatable
 *                  sources go out (without a gateway: the ports with a floating IP)
 *   hypervisor namespace, table `ip strata`:
 *     postrouting  ip saddr 169.254.0.0/16 snat to <H-IP> the domains' transit addresses → H-IP
 *
 * Each domain with a floating IP or an external gateway gets a veth
 * `sx<domain>` ↔ `ext` between the hypervisor namespace and its namespace.
 * The domain end has a transit address 169.254.X.Y/32, unique on this host
 * (a hash of the domain id, probing on collision, like conntrack zones), so
 * the hypervisor can route replies of the H-IP masquerade back to the right
 * domain even when tenants overlap; the host end has 169.254.0.1/32, the
 * domains' default gateway (onlink). The hypervisor routes each local
 * floating IP /32 to its domain's transit address; the fabric routes the
 * floating IPs and the H-IP to the hypervisor (static routes in the lab,
 * BGP later).
 *
 * Traffic between a tenant's own addresses never leaves through `ext`, so it
 * is never translated. A VM reaching a floating IP of its own routing domain
 * is translated in the domain namespace (the DNAT applies to every incoming
 * interface) and masqueraded to the router's address on the target's subnet,
 * so the replies come back through the router: the target sees the router,
 * the caller sees replies from the floating IP. A floating IP of another domain is reached the way
 * the outside reaches it (through the hypervisor, the fabric if it is on
 * another host), and its owner sees the caller's floating IP or H-IP.
 * Routed networks (no NAT) use the same link: the fabric routes their
 * addresses to the hypervisors (the BGP gateway advertises them), the
 * hypervisor routes each routed subnet to its domain's transit address, and
 * their traffic crosses `ext` untranslated in both directions.
 * Prefixes an appliance announced over BGP (accepted by the gateway, on the
 * appliance's port in the host view) are routed the same way, then in the
 * domain namespace to the appliance's address.
 *
 * IPv6 routed subnets cross the same link, untranslated (there is no IPv6
 * NAT): the link gets the fixed link-local addresses fe80::1 (hypervisor
 * end) and fe80::2 (domain end), the same on every link since each link is
 * its own scope; the hypervisor routes each routed IPv6 subnet via fe80::2,
 * the domain's IPv6 default route is via fe80::1, and table `ip6 strata`
 * in the domain namespace guards it as the IPv4 guard does (in: replies and
 * the routed subnets; out: only the routed subnets' sources). The hypervisor
 * forwards IPv6 (`net.ipv6.conf.all.forwarding`) only while it has such a
 * link. Floating IPs, H-IPs and appliance prefixes are IPv4 only here.
 */
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import { domainNamespace, EXT_DOMAIN_END, extHostEnd, gatewayDomainEnd, linkAlias, TRANSIT6_DOMAIN_END, TRANSIT6_HOST_END } from './names.js';
import { emptyNftTable, nftRule, type NftTable } from './nft.js';
import { allocate } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';
import { addrKey, emptyKernelState, HOST_NS, linkKey, routeKey, type KernelState, type LinkState, type RouteEntry } from './types.js';

/** The hypervisor end of every external link: the domains' default gateway. */
export const TRANSIT_GATEWAY = '169.254.0.1';
/** All transit addresses: sources the hypervisor masquerades to its H-IP. */
export const TRANSIT_PREFIX = '169.254.0.0/16';
const EXT_MTU = 1500;

/** Transit address of slot 2..65533: 169.254.X.Y (never .0.0, .0.1 or the broadcast-like ends). */
export const transitAddress = (slot: number): string => `169.254.${slot >> 8}.${slot & 0xff}`;

interface ExtDomain {
  id: string;
  ns: string;
  gateway: boolean;
  /** Floating IP → fixed IP, this host's ports in the domain. */
  fips: Map<string, string>;
  /** IPv4 subnets of the domain's routed networks (no NAT: their addresses are routed by the fabric). */
  routed: Set<string>;
  /** IPv6 subnets of the domain's routed networks (routed by the fabric, untranslated). */
  routed6: Set<string>;
  /** Prefixes local appliances announced (accepted by the BGP gateway): prefix → appliance address and its gateway device. */
  announced: Map<string, { via: string; dev: string }>;
}

/** The NAT objects of this host; `namespaces`: the domain namespaces the overlay has here (a domain without one gets nothing). */
export function desiredNat(view: HostViewSnapshot, nsPrefix: string, namespaces: KernelState['namespaces']): KernelState {
  const kernel = emptyKernelState();
  const domains = new Map<string, ExtDomain>();
  const domainFor = (id: string): ExtDomain | undefined => {
    const d = view.domains[id];
    const ns = domainNamespace(nsPrefix, id);
    if (!d || !namespaces[ns]) return undefined;
    let e = domains.get(id);
    if (!e) domains.set(id, (e = { id, ns, gateway: d.externalGateway === true, fips: new Map(), routed: new Set(), routed6: new Set(), announced: new Map() }));
    return e;
  };
  for (const d of Object.values(view.domains)) if (d.externalGateway) domainFor(d.id);
  for (const net of Object.values(view.networks)) {
    if (!net.routed) continue;
    const d = domainFor(net.domainId);
    for (const s of net.subnets) {
      const p = canonicalPrefix(s.cidr);
      if (d && p) (p.version === 4 ? d.routed : d.routed6).add(p.text);
    }
  }
  for (const p of Object.values(view.ports)) {
    const net = view.networks[p.networkId];
    if (!net || !p.floatingIps?.length) continue;
    const d = domainFor(net.domainId);
    for (const f of p.floatingIps) {
      const address = v4(f.address);
      const fixed = v4(f.fixedIp);
      if (d && address && fixed) d.fips.set(address, fixed);
    }
  }
  // Appliances: the fabric sends an announced prefix to this host (its next hop, the appliance, is routed here).
  for (const p of Object.values(view.ports)) {
    const net = view.networks[p.networkId];
    if (!net || !p.announcedRoutes?.length) continue;
    const d = domainFor(net.domainId);
    for (const r of p.announcedRoutes) {
      const prefix = canonicalPrefix(r.prefix, 4)?.text;
      const via = v4(r.nextHop);
      if (d && prefix && via) d.announced.set(prefix, { via, dev: gatewayDomainEnd(net.vni) });
    }
  }
  if (domains.size === 0) return kernel;

  const hip = view.host ? v4(view.host.publicIp) : null;
  const slots = allocate(domains.keys(), 65532);
  kernel.hostSysctls['net.ipv4.ip_forward'] = '1';
  const link = (l: LinkState): void => void (kernel.links[linkKey(l.ns, l.name)] = l);
  const addr = (ns: string, dev: string, cidr: string): void => void (kernel.addrs[addrKey({ ns, dev, cidr })] = { ns, dev, cidr });
  const route = (r: RouteEntry): void => void (kernel.routes[routeKey(r)] = r);

  for (const d of [...domains.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const sx = extHostEnd(d.id);
    const transit = transitAddress(slots.get(d.id)! + 1);
    const base = { mtu: EXT_MTU, up: true, master: null, alias: linkAlias('external', d.id), mac: null, vxlan: null, brport: null, kind: 'veth' } as const;
    link({ ...base, ns: HOST_NS, name: sx, peer: { ns: d.ns, name: EXT_DOMAIN_END } });
    link({ ...base, ns: d.ns, name: EXT_DOMAIN_END, peer: { ns: HOST_NS, name: sx } });
    addr(HOST_NS, sx, `${TRANSIT_GATEWAY}/32`);
    addr(d.ns, EXT_DOMAIN_END, `${transit}/32`);
    route({ ns: HOST_NS, dst: `${transit}/32`, dev: sx, via: null });
    route({ ns: d.ns, dst: '0.0.0.0/0', dev: EXT_DOMAIN_END, via: TRANSIT_GATEWAY });
    for (const fip of [...d.fips.keys()].sort()) route({ ns: HOST_NS, dst: `${fip}/32`, dev: sx, via: transit });
    // Routed networks: what the fabric sends this host for them enters their domain untranslated.
    for (const p of [...d.routed].sort()) route({ ns: HOST_NS, dst: p, dev: sx, via: transit });
    // Announced prefixes: into the domain, then to the appliance.
    for (const [p, a] of [...d.announced].sort(([x], [y]) => (x < y ? -1 : 1))) {
      route({ ns: HOST_NS, dst: p, dev: sx, via: transit });
      route({ ns: d.ns, dst: p, dev: a.dev, via: a.via });
    }
    kernel.nsNft[d.ns] = { tables: { ip: domainTable(d, hip !== null), ...(d.routed6.size > 0 ? { ip6: domainTable6(d) } : {}) } };
    if (d.routed6.size > 0) {
      // IPv6 routed networks: in via the domain end's link-local address, out via the hypervisor's.
      kernel.hostSysctls['net.ipv6.conf.all.forwarding'] = '1';
      addr(HOST_NS, sx, `${TRANSIT6_HOST_END}/64`);
      addr(d.ns, EXT_DOMAIN_END, `${TRANSIT6_DOMAIN_END}/64`);
      route({ ns: d.ns, dst: '::/0', dev: EXT_DOMAIN_END, via: TRANSIT6_HOST_END });
      for (const p of [...d.routed6].sort()) route({ ns: HOST_NS, dst: p, dev: sx, via: TRANSIT6_DOMAIN_END });
    }
  }
  if (hip !== null) kernel.nft.tables.ip = hostTable(hip);
  return kernel;
}

function domainTable(d: ExtDomain, canMasquerade: boolean): NftTable {
  const t = emptyNftTable('ip');
  const fips = [...d.fips].sort(([a], [b]) => (a < b ? -1 : 1));
  t.maps.fip_dnat = { name: 'fip_dnat', type: 'ipv4_addr:ipv4_addr', elements: Object.fromEntries(fips) };
  t.maps.fip_snat = { name: 'fip_snat', type: 'ipv4_addr:ipv4_addr', elements: Object.fromEntries(fips.map(([fip, fixed]) => [fixed, fip])) };
  t.sets.fip_fixed = { name: 'fip_fixed', type: 'ipv4_addr', elements: [...new Set(fips.map(([, fixed]) => fixed))].sort() };
  const ext = `"${EXT_DOMAIN_END}"`;
  const masquerade = d.gateway && canMasquerade;
  // Routed subnets and announced prefixes: both cross `ext` untranslated.
  const routed = [...new Set([...d.routed, ...d.announced.keys()])].sort();
  t.chains.pre = { name: 'pre', base: { type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' }, rules: [nftRule('dnat ip to ip daddr map @fip_dnat', ['set:fip_dnat'])] };
  t.chains.post = {
    name: 'post',
    base: { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' },
    rules: [
      nftRule(`oifname ${ext} snat ip to ip saddr map @fip_snat`, ['set:fip_snat']),
      // Routed networks leave with their own addresses.
      ...routed.map((p) => nftRule(`oifname ${ext} ip saddr ${p} accept`)),
      ...(masquerade ? [nftRule(`oifname ${ext} masquerade`)] : []),
      // Hairpin: a flow to a floating IP of this domain, translated back inside it. The target sees the
      // router's address on its subnet, so its replies return through the router to be translated back
      // (to the caller on its own subnet they would go directly, untranslated, and be dropped).
      nftRule(`iifname != ${ext} oifname != ${ext} ct status dnat masquerade`),
    ],
  };
  t.chains.guard = {
    name: 'guard',
    base: { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' },
    rules: [
      // In from outside: replies, and flows to a floating IP (translated in prerouting). Nothing else reaches tenant addresses.
      nftRule(`iifname ${ext} ct state established,related accept`),
      nftRule(`iifname ${ext} ct status dnat accept`),
      // Routed networks are reachable from outside (their security groups decide what reaches a VM).
      ...routed.map((p) => nftRule(`iifname ${ext} ip daddr ${p} accept`)),
      nftRule(`iifname ${ext} drop`),
      // Out: without a gateway only ports with a floating IP, and routed networks, may leave (anything else would leave untranslated).
      ...(masquerade ? [] : [...routed.map((p) => nftRule(`oifname ${ext} ip saddr ${p} accept`)), nftRule(`oifname ${ext} ip saddr != @fip_fixed drop`, ['set:fip_fixed'])]),
    ],
  };
  return t;
}

/** The IPv6 guard of the external link: no NAT, so only the routed subnets cross it, in and out. */
function domainTable6(d: ExtDomain): NftTable {
  const t = emptyNftTable('ip6');
  const ext = `"${EXT_DOMAIN_END}"`;
  const routed = [...d.routed6].sort();
  t.chains.guard = {
    name: 'guard',
    base: { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' },
    rules: [
      nftRule(`iifname ${ext} ct state established,related accept`),
      ...routed.map((p) => nftRule(`iifname ${ext} ip6 daddr ${p} accept`)),
      nftRule(`iifname ${ext} drop`),
      ...routed.map((p) => nftRule(`oifname ${ext} ip6 saddr ${p} accept`)),
      nftRule(`oifname ${ext} drop`),
    ],
  };
  return t;
}

function hostTable(hip: string): NftTable {
  const t = emptyNftTable('ip');
  t.chains.post = {
    name: 'post',
    base: { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' },
    rules: [nftRule(`ip saddr ${TRANSIT_PREFIX} snat ip to ${hip}`)],
  };
  return t;
}

/** A prefix in canonical text (of `only` that version, when given); null for text that is none. */
function canonicalPrefix(cidr: string, only?: 4 | 6): { version: 4 | 6; text: string } | null {
  try {
    const p = parsePrefix(cidr, false);
    return only === undefined || p.version === only ? { version: p.version, text: formatPrefix(p) } : null;
  } catch {
    return null;
  }
}

function v4(ip: string): string | null {
  try {
    const a = parseAddress(ip);
    return a.version === 4 ? formatAddress(a) : null;
  } catch {
    return null;
  }
}
