/**
 * Security groups and anti-spoofing → Strata's nftables tables. Pure.
 *
 * Bridged IPv4/IPv6 traffic traverses the `inet` hooks through br_netfilter,
 * where conntrack works, but there `iifname`/`oifname` are the bridge, not the
 * port (verified). Port identity therefore travels in the packet mark, written
 * in the `bridge` family, where the ports are known:
 *
 *   bridge strata  pre (prerouting, -300):  iifname vmap @spoof_chains         anti-spoofing per port
 *                                          meta mark set iifname map @port_ids  bits 0-15: the port it came from
 *                  forward (forward, -200): oifname vmap @out_ports             bits 16-31: the port it goes to
 *   inet strata    pre (prerouting, raw):   ct zone set iifname map @zones      bridge → its routing domain's zone
 *                  fwd_egress (forward, 0): established/related accept,
 *                                          meta mark & 0x0000ffff vmap @egress_chains  → port_<p>_out
 *                  fwd_ingress (forward, 1): the same, meta mark & 0xffff0000 vmap @ingress_chains → port_<p>_in
 *
 * Two base chains, because `accept` ends only the base chain it happens in:
 * a packet between two filtered ports must pass the sender's egress rules in
 * one and the receiver's ingress rules in the other. Routed traffic crosses
 * the hypervisor's bridges twice (VM → sgw → domain namespace → sgw → VM):
 * the sender's egress is checked on the first pass, the receiver's ingress on
 * the second, both in the domain's conntrack zone, so replies are
 * `established` on both passes.
 *
 * Per group g: chains sg_<g>_in / sg_<g>_out with one rule per security-group
 * rule (each with a named counter r_<rule>); per remote group a set pair
 * sg_<g>_v4 / sg_<g>_v6 holding the member addresses. Membership changes
 * are set elements only. Per filtered port p: port_<p>_in / port_<p>_out
 * (invalid drop, the groups' chains, implicit DHCP and ICMPv6 ND, drop). The
 * number of rules on a host does not depend on group sizes.
 */
import { portDevice, type HostNetwork, type SecurityGroupRule, type HostSecurityGroup, type LocalPort } from '@strata/contracts';
import { gatewayLinkLocal } from './dhcp6.js';
import { eui64LinkLocal, formatAddress, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import { garpLogRule, hasPairs, pairSpoofRules, VLAN_TAGS_DROP } from './address-pairs.js';
import { dhcpRenewalRules, dhcpServers } from './dhcp-renewal.js';
import { bridgeName, outMarkChainName, portChainName, ruleCounterName, sgChainName, sgSetName, spoofChainName } from './names.js';
import { emptyNftTable, noneOf, nftRule, type NftBaseChain, type NftChain, type NftRule, type NftState, type NftTable } from './nft.js';
import type { HostViewSnapshot } from './snapshot.js';
import { BR_NETFILTER_SYSCTLS } from './types.js';

/** Bits of the packet mark carrying the port a packet came from (its egress rules apply). */
export const FROM_PORT_MASK = 0x0000ffff;
/** Bits of the packet mark carrying the port a packet goes to (its ingress rules apply). */
export const TO_PORT_MASK = 0xffff0000;


/** What a named counter counts: exported as strata_sg_rule_{packets,bytes}_total{group, rule}. */
export interface RuleCounterLabel {
  group: string;
  rule: string;
}

export interface SecurityGroupState {
  nft: NftState;
  counters: Record<string, RuleCounterLabel>;
  /** Host sysctls the filtering needs (br_netfilter on), empty when nothing is filtered. */
  hostSysctls: Record<string, string>;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

const base = (hook: NftBaseChain['hook'], prio: number): NftBaseChain => ({ type: 'filter', hook, prio, policy: 'accept' });

const chain = (name: string, rules: NftRule[], b: NftBaseChain | null = null): NftChain => ({ name, base: b, rules });

/**
 * Small numbers for ids (port marks, conntrack zones), 1..max: a hash of the
 * id, probing upwards on collision with the ids taken in sorted order. An id
 * keeps its number while others come and go, unless a collision with a
 * smaller id moves it (rare: the space is 65535).
 */
export function allocate(ids: Iterable<string>, max = 0xffff): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  for (const id of [...new Set(ids)].sort()) {
    let n = 1 + (fnv1a(id) % max);
    while (taken.has(n)) n = (n % max) + 1;
    taken.add(n);
    out.set(id, n);
  }
  return out;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The IPv6 link-local address a MAC gives by EUI-64 (what Linux uses by default). */
export { eui64LinkLocal };

interface PortInfo {
  port: LocalPort;
  device: string;
  groups: string[];
  portSecurity: boolean;
}

export function desiredSecurityGroups(view: HostViewSnapshot): SecurityGroupState {
  const nft: NftState = { tables: {} };
  const counters: Record<string, RuleCounterLabel> = {};
  const ports: PortInfo[] = Object.values(view.ports)
    .filter((p) => view.networks[p.networkId] !== undefined)
    .sort((a, b) => cmp(a.id, b.id))
    .map((port) => ({
      port,
      device: port.device || portDevice(port.id),
      groups: [...new Set(port.groupIds ?? [])].sort(),
      portSecurity: port.portSecurity ?? true,
    }));
  const filtered = ports.filter((p) => p.groups.length > 0);
  const guarded = ports.filter((p) => p.portSecurity);
  // A port without port security but with pairs: its chain only feeds the GARP watcher (address-pairs.ts).
  const watchedOnly = ports.filter((p) => !p.portSecurity && garpLogRule(p.port) !== null);
  if (filtered.length === 0 && guarded.length === 0 && watchedOnly.length === 0) return { nft, counters, hostSysctls: {} };

  const ids = allocate(filtered.map((p) => p.port.id));
  const bridge = emptyNftTable('bridge');
  nft.tables.bridge = bridge;
  bridgeSkeleton(bridge);
  for (const p of guarded) {
    const name = spoofChainName(p.port.id);
    bridge.chains[name] = chain(name, spoofRules(p.port, dhcpServers(view, p.port.networkId)));
    bridge.maps.spoof_chains!.elements[p.device] = `jump ${name}`;
  }
  for (const p of watchedOnly) {
    const name = spoofChainName(p.port.id);
    bridge.chains[name] = chain(name, [garpLogRule(p.port)!]);
    bridge.maps.spoof_chains!.elements[p.device] = `jump ${name}`;
  }
  for (const p of filtered) {
    const id = ids.get(p.port.id)!;
    const name = outMarkChainName(p.port.id);
    bridge.chains[name] = chain(name, [nftRule(`meta mark set meta mark and ${hex8(FROM_PORT_MASK)} or ${hex8(id << 16)}`)]);
    bridge.maps.port_ids!.elements[p.device] = hex8(id);
    bridge.maps.out_ports!.elements[p.device] = `jump ${name}`;
  }
  if (filtered.length === 0) return { nft, counters, hostSysctls: {} };

  const inet = emptyNftTable('inet');
  nft.tables.inet = inet;
  inetSkeleton(inet);
  // A peering segment's bridge (core/peering.ts) carries several tenants' routed flows: a zone of its own.
  const segments = new Map(Object.values(view.domains).flatMap((d) => (d.peerings ?? []).map((p) => [`peering:${p.segmentId}`, p.vni] as const)));
  const zones = allocate([...Object.values(view.networks).map((n) => n.domainId), ...segments.keys()]);
  for (const net of Object.values(view.networks)) inet.maps.zones!.elements[bridgeName(net.vni)] = String(zones.get(net.domainId)!);
  for (const [id, vni] of segments) inet.maps.zones!.elements[bridgeName(vni)] = String(zones.get(id)!);

  // The groups of local ports that the view has rules for; a port in a group whose rules are not
  // (yet) in the view is filtered without them: default deny until they arrive.
  const groups = [...new Set(filtered.flatMap((p) => p.groups))]
    .sort()
    .map((g) => (view.groups ?? {})[g])
    .filter((g): g is HostSecurityGroup => g !== undefined);
  const remote = new Set(groups.flatMap((g) => g.rules.map((r) => r.remoteGroupId).filter((r): r is string => r !== null)));
  for (const g of [...remote].sort()) {
    for (const v of [4, 6] as const) inet.sets[sgSetName(g, v)] = { name: sgSetName(g, v), type: v === 4 ? 'ipv4_addr' : 'ipv6_addr', elements: [] };
  }
  const elements = new Map<string, Set<string>>();
  for (const m of Object.values(view.members ?? {})) {
    if (!remote.has(m.groupId)) continue;
    for (const ip of m.ips) {
      const a = canonicalIp(ip);
      if (a === null) continue;
      const set = sgSetName(m.groupId, a.version);
      if (!elements.has(set)) elements.set(set, new Set());
      elements.get(set)!.add(a.text);
    }
  }
  for (const [set, es] of elements) inet.sets[set]!.elements = [...es].sort();

  for (const g of groups) {
    for (const dir of ['in', 'out'] as const) {
      const rules: NftRule[] = [];
      for (const r of g.rules) {
        if ((r.direction === 'ingress') !== (dir === 'in')) continue;
        const counter = ruleCounterName(r.id);
        const rule = ruleFor(r, counter);
        if (rule === null) continue;
        rules.push(rule);
        inet.counters[counter] = true;
        counters[counter] = { group: g.id, rule: r.id };
      }
      const name = sgChainName(g.id, dir);
      inet.chains[name] = chain(name, rules);
    }
  }

  const known = new Set(groups.map((g) => g.id));
  for (const p of filtered) {
    const id = ids.get(p.port.id)!;
    const jumps = (dir: 'in' | 'out'): NftRule[] =>
      p.groups.filter((g) => known.has(g)).map((g) => nftRule(`jump ${sgChainName(g, dir)}`, [`chain:${sgChainName(g, dir)}`]));
    const inName = portChainName(p.port.id, 'in');
    const outName = portChainName(p.port.id, 'out');
    const invalid = nftRule('ct state invalid drop');
    inet.chains[inName] = chain(inName, [
      invalid,
      ...jumps('in'),
      nftRule('meta nfproto ipv4 udp sport 67 udp dport 68 accept'),
      NEIGHBOUR_DISCOVERY,
      ...fromGateway(view.networks[p.port.networkId]!),
      nftRule('drop'),
    ]);
    inet.chains[outName] = chain(outName, [
      invalid,
      nftRule('meta nfproto ipv4 udp sport 68 udp dport 67 accept'),
      nftRule('meta nfproto ipv6 udp sport 546 udp dport 547 accept'),
      nftRule('icmpv6 type nd-router-solicit accept'),
      NEIGHBOUR_DISCOVERY,
      ...jumps('out'),
      nftRule('drop'),
    ]);
    inet.maps.egress_chains!.elements[hex8(id)] = `jump ${outName}`;
    inet.maps.ingress_chains!.elements[hex8(id << 16)] = `jump ${inName}`;
  }
  return { nft, counters, hostSysctls: Object.fromEntries(BR_NETFILTER_SYSCTLS.map((k) => [k, '1'])) };
}

/**
 * Neighbour solicitations and advertisements (ICMPv6 types 135 and 136), both
 * ways on every filtered port. A range, not `{ nd-neighbor-solicit,
 * nd-neighbor-advert }`: no set per port (`noneOf` in nft.ts says why).
 */
const NEIGHBOUR_DISCOVERY = nftRule('icmpv6 type 135-136 accept');

/**
 * Router advertisements and DHCPv6 replies a filtered port accepts: from its
 * network's gateway only, i.e. its link-local address (the same on every
 * host: core/dhcp6.ts). DHCPv6 replies answer a multicast solicit, so
 * conntrack does not see them as replies.
 */
function fromGateway(net: HostNetwork): NftRule[] {
  const ll = gatewayLinkLocal(net);
  if (ll === null) return [];
  return [nftRule(`ip6 saddr ${ll} icmpv6 type nd-router-advert accept`), nftRule(`ip6 saddr ${ll} udp sport 547 udp dport 546 accept`)];
}

function bridgeSkeleton(t: NftTable): void {
  t.maps.port_ids = { name: 'port_ids', type: 'ifname:mark', elements: {} };
  t.maps.spoof_chains = { name: 'spoof_chains', type: 'ifname:verdict', elements: {} };
  t.maps.out_ports = { name: 'out_ports', type: 'ifname:verdict', elements: {} };
  // Bridge family priorities: before br_netfilter (0), which hands the packet to the inet hooks.
  t.chains.pre = chain(
    'pre',
    [nftRule('iifname vmap @spoof_chains', ['set:spoof_chains']), nftRule('meta mark set iifname map @port_ids', ['set:port_ids'])],
    base('prerouting', -300),
  );
  t.chains.forward = chain('forward', [nftRule('oifname vmap @out_ports', ['set:out_ports'])], base('forward', -200));
}

function inetSkeleton(t: NftTable): void {
  t.maps.zones = { name: 'zones', type: 'ifname:integer', elements: {} };
  t.maps.egress_chains = { name: 'egress_chains', type: 'mark:verdict', elements: {} };
  t.maps.ingress_chains = { name: 'ingress_chains', type: 'mark:verdict', elements: {} };
  t.chains.pre = chain('pre', [nftRule('ct zone set iifname map @zones', ['set:zones'])], base('prerouting', -300));
  // Invalid packets are dropped in the port chains: ports in no group stay entirely unfiltered.
  const stateful = [nftRule('ct state established,related accept')];
  t.chains.fwd_egress = chain(
    'fwd_egress',
    [...stateful, nftRule(`meta mark and ${hex8(FROM_PORT_MASK)} vmap @egress_chains`, ['set:egress_chains'])],
    base('forward', 0),
  );
  t.chains.fwd_ingress = chain(
    'fwd_ingress',
    [...stateful, nftRule(`meta mark and ${hex8(TO_PORT_MASK)} vmap @ingress_chains`, ['set:ingress_chains'])],
    base('forward', 1),
  );
}

/**
 * A security-group rule in nft syntax; null for a rule that cannot match
 * anything (a CIDR of the other family, ICMPv6 with IPv4, a bad port range).
 */
export function ruleFor(r: SecurityGroupRule, counter: string): NftRule | null {
  const v = r.ethertype === 'IPv4' ? 4 : 6;
  const fam = v === 4 ? 'ip' : 'ip6';
  const peer = r.direction === 'ingress' ? 'saddr' : 'daddr';
  const parts: string[] = [];
  const refs: string[] = [`counter:${counter}`];
  if (r.remoteGroupId !== null) {
    const set = sgSetName(r.remoteGroupId, v);
    parts.push(`${fam} ${peer} @${set}`);
    refs.push(`set:${set}`);
  } else if (r.remoteCidr !== null) {
    const p = safe(() => parsePrefix(r.remoteCidr!, false));
    if (p === null || p.version !== v) return null;
    if (p.length > 0) parts.push(`${fam} ${peer} ${formatPrefix(p)}`);
  }
  if (parts.length === 0) parts.push(`meta nfproto ipv${v}`);
  switch (r.protocol) {
    case 'tcp':
    case 'udp': {
      if (r.portMin === null && r.portMax === null) {
        parts.push(`meta l4proto ${r.protocol}`);
        break;
      }
      const lo = r.portMin ?? r.portMax!;
      const hi = r.portMax ?? r.portMin!;
      if (lo < 0 || hi > 65535 || lo > hi) return null;
      parts.push(`${r.protocol} dport ${lo === hi ? lo : `${lo}-${hi}`}`);
      break;
    }
    case 'icmp':
    case 'icmpv6': {
      // "icmp" on an IPv6 rule means ICMPv6 (as in Neutron); ICMPv6 on an IPv4 rule matches nothing.
      if (r.protocol === 'icmpv6' && v === 4) return null;
      const icmp = v === 4 ? 'icmp' : 'icmpv6';
      if (r.icmpType !== null) parts.push(`${icmp} type ${r.icmpType}`);
      if (r.icmpCode !== null) parts.push(`${icmp} code ${r.icmpCode}`);
      if (r.icmpType === null && r.icmpCode === null) parts.push(`meta l4proto ${v === 4 ? 'icmp' : 'ipv6-icmp'}`);
      break;
    }
    case 'any':
      break;
  }
  parts.push(`counter name "${counter}"`, 'accept');
  return nftRule(parts.join(' '), refs);
}

/**
 * What only the router may send on a network, never a VM with port security
 * (as Neutron and OVN drop them): router advertisements, which would make
 * the VM every neighbour's default router, and DHCPv6 server messages.
 */
const ROUTER_ONLY: NftRule[] = [nftRule('icmpv6 type nd-router-advert drop'), nftRule('ether type ip6 udp sport 547 drop')];

/**
 * Anti-spoofing for one port (bridge family, stateless; the only place ARP can
 * be filtered): its MAC only; ARP only for its IPv4 addresses (and 0.0.0.0,
 * probes); IPv4 only from its addresses, except a DHCP client's 0.0.0.0 and
 * its requests to its DHCP servers (`dhcpRenewalRules`);
 * IPv6 only from its addresses, its EUI-64 link-local address and :: (DAD);
 * no router advertisements or DHCPv6 server messages (ROUTER_ONLY); no VLAN-tagged frames (their inner headers are not matched here). A port
 * with allowed address pairs: the same on (MAC, address) pairs, and its
 * GARPs for them logged for the watcher (address-pairs.ts).
 */
export function spoofRules(p: LocalPort, servers: string[] = []): NftRule[] {
  const mac = p.mac.toLowerCase();
  const v4: string[] = [];
  const v6: string[] = ['::'];
  const ll = eui64LinkLocal(mac);
  if (ll !== null) v6.push(ll);
  for (const f of p.fixedIps) {
    const a = safe(() => parseAddress(f.ip));
    if (a !== null) (a.version === 4 ? v4 : v6).push(formatAddress(a));
  }
  const arp = [...v4];
  // An appliance may also send from the prefixes it announced and the BGP gateway accepted (IP only, not ARP).
  for (const r of p.announcedRoutes ?? []) {
    const pre = safe(() => parsePrefix(r.prefix));
    if (pre === null) continue;
    const full = pre.length === (pre.version === 4 ? 32 : 128);
    (pre.version === 4 ? v4 : v6).push(full ? formatAddress({ version: pre.version, value: pre.network }) : formatPrefix(pre));
  }
  if (hasPairs(p)) {
    const { link, addresses } = pairSpoofRules(p, { arp4: arp, ip4: v4, ip6: v6 }, servers);
    return withGarpLog(p, [...link, ...ROUTER_ONLY, ...addresses]);
  }
  return [
    nftRule(`ether saddr != ${mac} drop`),
    ...VLAN_TAGS_DROP,
    ...ROUTER_ONLY,
    nftRule(`arp saddr ether != ${mac} drop`),
    nftRule(`${noneOf('arp saddr ip', ['0.0.0.0', ...arp])} drop`),
    nftRule('ip saddr 0.0.0.0 udp sport 68 udp dport 67 return'),
    ...dhcpRenewalRules(servers),
    nftRule(v4.length > 0 ? `${noneOf('ip saddr', v4)} drop` : 'ether type ip drop'),
    nftRule(`${noneOf('ip6 saddr', v6)} drop`),
  ];
}

/**
 * Canonical address text and version, memoised: member addresses are the bulk
 * of a large host's view (10k members), the same on every pass, and parsing
 * them with BigInt arithmetic each time dominated the pure computation.
 */
const canonicalCache = new Map<string, { version: 4 | 6; text: string } | null>();
export function canonicalIp(ip: string): { version: 4 | 6; text: string } | null {
  let c = canonicalCache.get(ip);
  if (c !== undefined) return c;
  const a = safe(() => parseAddress(ip));
  c = a === null ? null : { version: a.version, text: formatAddress(a) };
  if (canonicalCache.size >= 200_000) canonicalCache.clear();
  canonicalCache.set(ip, c);
  return c;
}

/** A port's anti-spoofing rules, then the rule that feeds the GARP watcher (if it has IPv4 pairs). */
function withGarpLog(p: LocalPort, rules: NftRule[]): NftRule[] {
  const log = garpLogRule(p);
  return log === null ? rules : [...rules, log];
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
