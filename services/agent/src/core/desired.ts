/**
 * Host view → the kernel state this hypervisor must have. Pure.
 *
 * Per network (VNI V): bridge sbrV and vxlan svxV (no learning, neighbour
 * suppression), head-end replication to the flood VTEPs, and for every remote
 * endpoint a tunnel entry (MAC → VTEP), a bridge entry (MAC → svxV: the
 * bridge answers ARP/ND only for MACs it knows behind a suppressing port) and
 * neighbour entries on sbrV (the data the bridge answers from). Local ports
 * are plugged into sbrV. Per routing domain: a namespace; per network of the
 * domain a veth sgwV ↔ qrV whose qr end is the anycast gateway (same MAC and
 * addresses on every host) with permanent neighbours for every port of the
 * network, so routed packets go straight to the destination MAC: one routed
 * hop, on the source host. The pair addresses a port owns (allowed address
 * pairs, the owner learned from its GARP) get the same neighbour entries
 * with the owner's MAC; one no port owns yet has none (its ARP floods and
 * the holder answers). Security groups and anti-spoofing: `secgroups.ts`.
 *
 * This file holds the overlay's and DHCP's parts and the desired state's
 * shape; the dataplane's managers (../dataplane/managers/) compose every
 * feature's part into one DesiredState (../dataplane/compose.ts).
 */
import { portDevice, type HostNetwork, type SubnetInfo } from '@strata/contracts';
import { contains, formatAddress, formatPrefix, mask, parseAddress, parsePrefix, type Prefix } from '@strata/netaddr';
import {
  bridgeMac,
  bridgeName,
  domainNamespace,
  gatewayDomainEnd,
  gatewayHostEnd,
  linkAlias,
  vxlanName,
  VXLAN_PORT,
} from './names.js';
import { addL2Gateways } from './l2gw.js';
import { addPeerings } from './peering.js';
import { dhcp6Spec, dhcp6Subnet, gatewayLinkLocal, servesAddresses, type Dhcp6Spec, type Dhcp6Subnet } from './dhcp6.js';
import type { RuleCounterLabel } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';
import {
  HOST_NS,
  addrKey,
  emptyKernelState,
  fdbKey,
  linkKey,
  neighKey,
  type FdbEntry,
  type KernelState,
  type LinkState,
} from './types.js';

export interface DesiredOptions {
  /** Prefix of this agent's domain namespaces (named namespaces are global to the machine). */
  nsPrefix: string;
  /** DHCP lease time in seconds (default 86400). */
  leaseSeconds?: number;
}

export interface DhcpSubnet {
  /** dnsmasq tag set by the range and selecting its options. */
  tag: string;
  iface: string;
  /** Network address and netmask of the subnet. */
  network: string;
  netmask: string;
  router: string | null;
  mtu: number;
  leaseSeconds: number;
  /** DNS servers (option 6); empty: none is offered. */
  dnsServers: string[];
  /**
   * Classless static routes (option 121), IPv4 destinations only; empty: none. When there are any, the
   * default route via the gateway is the last one: a client that takes option 121 ignores the router
   * option (RFC 3442).
   */
  classlessRoutes: { destination: string; nexthop: string }[];
}

/** One dnsmasq per domain namespace, static leases only. */
export interface DhcpSpec {
  ns: string;
  domainId: string;
  interfaces: string[];
  subnets: DhcpSubnet[];
  /**
   * Static leases: this host's ports only (see docs: the other hosts' servers must not answer).
   * IPv6 addresses only on DHCPv6-stateful subnets; a port with none is listed by MAC alone
   * when it is on a DHCPv6 subnet, so its information requests are answered (it is "known").
   */
  hosts: { mac: string; ips: string[] }[];
  /** IPv6: RAs and DHCPv6 (core/dhcp6.ts); left out when the domain has no IPv6 subnet with modes. */
  v6?: Dhcp6Spec;
}

export interface PortDevice {
  id: string;
  device: string;
  /** Administratively up (the view's `adminStateUp`): a port that is down is reported down even when plugged. */
  adminStateUp: boolean;
}

export interface DesiredState {
  kernel: KernelState;
  dhcp: Record<string, DhcpSpec>;
  /** This host's ports and their devices: a port is up when its device exists and is plugged, and it is administratively up. */
  ports: PortDevice[];
  /** Named nft counters of security-group rules → the group and rule they count. */
  ruleCounters: Record<string, RuleCounterLabel>;
}

const FORWARDING = { router: '1', network: '0' } as const;

/**
 * A domain namespace's interfaces are anycast gateways: the other hosts'
 * RAs reach them over VXLAN (the same prefixes, from the same link-local
 * address) and must configure nothing there, also in a lone network's
 * namespace, which does not forward (a forwarding interface ignores RAs
 * anyway). `default` applies to the gateways created after it (sysctls come
 * first in a plan). Their link-local address needs no DAD switch: with the
 * same MAC on every host, no duplicate was ever detected (e2e ipv6 test).
 */
const GATEWAY_IPV6_SYSCTLS = {
  'net.ipv6.conf.all.accept_ra': '0',
  'net.ipv6.conf.default.accept_ra': '0',
} as const;

/** This host's ports and their devices (known before the host is registered: their status is down). */
export const portDevices = (view: HostViewSnapshot): PortDevice[] => byId(view.ports).map((p) => ({ id: p.id, device: p.device || portDevice(p.id), adminStateUp: p.adminStateUp !== false }));

/** This host's VTEP, canonical; null until the host is registered with a valid one (then nothing is programmed). */
export const hostVtep = (view: HostViewSnapshot): string | null => (view.host ? canonical(view.host.vtepIp) : null);

/** The overlay (bridges, VXLAN, tunnel and neighbour entries, gateways, plugs) on this host: the overlay manager's part. */
export function desiredOverlay(view: HostViewSnapshot, opts: DesiredOptions, localVtep: string): KernelState {
  const kernel = emptyKernelState();
  const link = (l: LinkState): void => void (kernel.links[linkKey(l.ns, l.name)] = l);
  const fdb = (f: FdbEntry): void => void (kernel.fdb[fdbKey(f)] = f);
  const neigh = (ns: string, dev: string, ipText: string, mac: string): void => {
    const ip = canonical(ipText);
    if (ip !== null) kernel.neighs[neighKey({ ns, dev, ip })] = { ns, dev, ip, mac: mac.toLowerCase() };
  };

  for (const net of byId(view.networks)) {
    const v = net.vni;
    const br = bridgeName(v);
    const vx = vxlanName(v);
    const base = { mtu: net.mtu, up: true, mac: null, vxlan: null, peer: null, brport: null } as const;
    link({ ...base, ns: HOST_NS, name: br, kind: 'bridge', master: null, alias: linkAlias('bridge', net.id), mac: bridgeMac(v) });
    link({
      ...base,
      ns: HOST_NS,
      name: vx,
      kind: 'vxlan',
      master: br,
      alias: linkAlias('vxlan', net.id),
      vxlan: { vni: v, local: localVtep, port: VXLAN_PORT, learning: false },
      brport: { learning: false, neighSuppress: true },
    });
    for (const vtep of new Set(net.floodVteps.map(canonical))) {
      if (vtep !== null && vtep !== localVtep) fdb({ kind: 'flood', dev: vx, dst: vtep });
    }

    // The gateway, when the network's routing domain is in the view.
    const domain = view.domains[net.domainId];
    const ns = domain ? domainNamespace(opts.nsPrefix, domain.id) : null;
    const qr = gatewayDomainEnd(v);
    const routed = gatewaySubnets(net);
    const gwMac = net.gatewayMac.toLowerCase();
    if (domain && ns !== null) {
      kernel.namespaces[ns] ??= {
        name: ns,
        sysctls: { 'net.ipv4.ip_forward': FORWARDING[domain.kind], 'net.ipv6.conf.all.forwarding': FORWARDING[domain.kind], ...GATEWAY_IPV6_SYSCTLS },
      };
      const sgw = gatewayHostEnd(v);
      const alias = linkAlias('gateway', net.id);
      link({ ...base, ns: HOST_NS, name: sgw, kind: 'veth', master: br, alias, peer: { ns, name: qr } });
      link({ ...base, ns, name: qr, kind: 'veth', master: null, alias, mac: gwMac, peer: { ns: HOST_NS, name: sgw } });
      for (const { gateway, prefix } of routed) {
        const addr = { ns, dev: qr, cidr: `${gateway}/${prefix.length}` };
        kernel.addrs[addrKey(addr)] = addr;
        // ARP/ND for the gateway is answered on this host and never crosses VXLAN.
        neigh(HOST_NS, br, gateway, gwMac);
      }
      // Its link-local address too (the VMs' IPv6 router, the same on every host: dhcp6.ts).
      const ll = routed.some((s) => s.prefix.version === 6) ? gatewayLinkLocal(net) : null;
      if (ll !== null) neigh(HOST_NS, br, ll, gwMac);
      fdb({ kind: 'bridge', master: br, mac: gwMac, dev: sgw });
    }
    const routedIp = (ip: string): boolean => ns !== null && routed.some((s) => inPrefix(s.prefix, ip));

    // Remote endpoints first: a local port with the same MAC or IP (a port moving here) wins.
    const localPorts = byId(view.ports).filter((p) => p.networkId === net.id);
    const localMacs = new Set(localPorts.map((p) => p.mac.toLowerCase()));
    for (const ep of byId(view.endpoints)) {
      const mac = ep.mac.toLowerCase();
      const vtep = canonical(ep.vtep);
      if (ep.networkId !== net.id || localMacs.has(mac) || vtep === null || vtep === localVtep) continue;
      fdb({ kind: 'tunnel', dev: vx, mac, dst: vtep });
      fdb({ kind: 'bridge', master: br, mac, dev: vx });
      for (const ip of ep.ips) {
        neigh(HOST_NS, br, ip, mac);
        if (ns !== null && routedIp(ip)) neigh(ns, qr, ip, mac);
      }
      // Pair addresses it owns (its GARP was the last accepted) are answered here with the owner's MAC;
      // a pair MAC other than the port's (a VRRP virtual MAC) is tunnelled to the owner's host too.
      for (const o of ep.ownedAddresses ?? []) {
        const omac = o.mac.toLowerCase();
        if (omac !== mac && !localMacs.has(omac)) {
          fdb({ kind: 'tunnel', dev: vx, mac: omac, dst: vtep });
          fdb({ kind: 'bridge', master: br, mac: omac, dev: vx });
        }
        neigh(HOST_NS, br, o.ip, omac);
        if (ns !== null && routedIp(o.ip)) neigh(ns, qr, o.ip, omac);
      }
    }
    for (const p of localPorts) {
      // Groups not decided yet (null): leave the NIC unplugged rather than let the VM run unfiltered.
      if (p.groupIds === null) continue;
      const device = p.device || portDevice(p.id);
      // Administratively down: plugged but down, so the kernel forwards nothing to or from it (docs/architecture.md).
      kernel.plugs[device] = { device, master: br, mtu: net.mtu, up: p.adminStateUp !== false };
      for (const { ip } of p.fixedIps) {
        neigh(HOST_NS, br, ip, p.mac);
        if (ns !== null && routedIp(ip)) neigh(ns, qr, ip, p.mac);
      }
      for (const o of p.ownedAddresses ?? []) {
        neigh(HOST_NS, br, o.ip, o.mac);
        if (ns !== null && routedIp(o.ip)) neigh(ns, qr, o.ip, o.mac);
      }
    }
  }
  addL2Gateways(view, kernel);
  addPeerings(view, kernel, opts.nsPrefix);

  return kernel;
}

/** One dnsmasq per routing domain with a namespace here (`namespaces`: the overlay's) and a DHCP-enabled IPv4 subnet. */
export function desiredDhcp(view: HostViewSnapshot, opts: DesiredOptions, namespaces: KernelState['namespaces']): Record<string, DhcpSpec> {
  const dhcp: Record<string, DhcpSpec> = {};
  for (const domain of byId(view.domains)) {
    const spec = dhcpSpec(view, domain.id, domainNamespace(opts.nsPrefix, domain.id), opts.leaseSeconds ?? 86_400);
    if (spec && namespaces[spec.ns]) dhcp[spec.ns] = spec;
  }
  return dhcp;
}

function dhcpSpec(view: HostViewSnapshot, domainId: string, ns: string, leaseSeconds: number): DhcpSpec | null {
  const subnets: DhcpSubnet[] = [];
  const subnets6: Dhcp6Subnet[] = [];
  const dhcpPrefixes: Prefix[] = [];
  const v6Networks = new Set<string>();
  const nets = byId(view.networks).filter((n) => n.domainId === domainId);
  for (const net of nets) {
    for (const { subnet, gateway, prefix } of gatewaySubnets(net)) {
      // dnsmasq serves a subnet only on an interface with an address in it: the gateway.
      const iface = gatewayDomainEnd(net.vni);
      const s6 = dhcp6Subnet(subnet, prefix, iface, net.mtu, `n${net.vni}s6${subnets6.length}`, leaseSeconds);
      if (s6 !== null) {
        subnets6.push(s6);
        v6Networks.add(net.id);
        if (servesAddresses(s6)) dhcpPrefixes.push(prefix);
      }
      if (subnet.ipVersion !== 4 || !subnet.enableDhcp) continue;
      dhcpPrefixes.push(prefix);
      subnets.push({
        tag: `n${net.vni}s${subnets.length}`,
        iface,
        network: formatAddress({ version: 4, value: prefix.network }),
        netmask: formatAddress({ version: 4, value: mask(4, prefix.length) }),
        router: gateway,
        mtu: net.mtu,
        leaseSeconds,
        dnsServers: (subnet.dnsNameservers ?? []).map(canonical).filter((ip): ip is string => ip !== null && !ip.includes(':')),
        classlessRoutes: classlessRoutes(subnet, gateway),
      });
    }
  }
  if (subnets.length === 0 && subnets6.length === 0) return null;
  const netIds = new Set(nets.map((n) => n.id));
  const hosts = byId(view.ports)
    .filter((p) => netIds.has(p.networkId))
    .map((p) => ({
      mac: p.mac.toLowerCase(),
      ips: p.fixedIps.map((f) => f.ip).filter((ip) => dhcpPrefixes.some((pre) => inPrefix(pre, ip))),
      v6: v6Networks.has(p.networkId),
    }))
    .filter((h) => h.ips.length > 0 || h.v6)
    .map(({ mac, ips }) => ({ mac, ips }));
  const v6 = dhcp6Spec(domainId, subnets6);
  const interfaces = [...new Set([...subnets.map((s) => s.iface), ...subnets6.map((s) => s.iface)])];
  return { ns, domainId, interfaces, subnets, hosts, ...(v6 ? { v6 } : {}) };
}

/** A subnet's host routes as option 121 (IPv4 only), then its default route via the gateway (RFC 3442: the router option is ignored beside it). */
function classlessRoutes(subnet: SubnetInfo, gateway: string): DhcpSubnet['classlessRoutes'] {
  const routes: DhcpSubnet['classlessRoutes'] = [];
  let hasDefault = false;
  for (const r of subnet.hostRoutes ?? []) {
    const dst = safe(() => parsePrefix(r.destination, false));
    const nexthop = canonical(r.nexthop);
    if (dst === null || dst.version !== 4 || nexthop === null || nexthop.includes(':')) continue;
    if (dst.length === 0) hasDefault = true;
    routes.push({ destination: formatPrefix(dst), nexthop });
  }
  if (routes.length > 0 && !hasDefault) routes.push({ destination: '0.0.0.0/0', nexthop: gateway });
  return routes;
}

interface RoutedSubnet {
  subnet: SubnetInfo;
  gateway: string;
  prefix: Prefix;
}

function gatewaySubnets(net: HostNetwork): RoutedSubnet[] {
  const out: RoutedSubnet[] = [];
  for (const subnet of net.subnets) {
    if (subnet.gatewayIp === null) continue;
    const gateway = canonical(subnet.gatewayIp);
    const prefix = safe(() => parsePrefix(subnet.cidr, false));
    if (gateway !== null && prefix !== null) out.push({ subnet, gateway, prefix });
  }
  return out;
}

const inPrefix = (p: Prefix, ip: string): boolean => safe(() => contains(p, parseAddress(ip))) ?? false;

/** Canonical address text (as `ip` prints it), or null for garbage (skipped, never fatal). */
function canonical(ip: string): string | null {
  return safe(() => formatAddress(parseAddress(ip)));
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

const byId = <T extends { id: string }>(r: Record<string, T>): T[] =>
  Object.values(r).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
