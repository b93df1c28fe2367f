/**
 * Allowed address pairs in the bridge family (pure): what anti-spoofing
 * admits for a port with pairs, and the rule that hands the port's
 * gratuitous ARPs for them to the GARP watcher (observe/garp.ts).
 *
 * A pair binds an address (or CIDR) to a MAC, so a port with pairs is
 * checked on (source MAC, source address) together, with nftables
 * concatenations (`ether saddr . ip saddr != { mac . addr, pmac . 10.0.0.0/25 }`):
 * its own MAC with its own addresses, each pair's MAC with the pair's
 * address. A port without pairs keeps the simpler rules of secgroups.ts
 * byte for byte (unchanged digests: no churn on upgrade).
 *
 * The watcher's feed: `log group GARP_LOG_GROUP prefix "<portId>"` on the
 * port's ARP whose sender and target address are both within its pairs,
 * placed after the anti-spoofing drops, so only what the port may send is
 * reported. The kernel filters; the watcher wakes for a port's ARP for a
 * pair address only (a few per failover), never for other traffic.
 */
import type { LocalPort } from '@strata/contracts';
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import { dhcpRenewalRules } from './dhcp-renewal.js';
import { noneOf, nftRule, type NftRule } from './nft.js';

/** The nflog group (per network namespace) the GARP watcher listens on: "ST" in ASCII. */
export const GARP_LOG_GROUP = 0x5354;

/** The port's pairs with canonical text, by IP version; unparsable ones are left out (IPAM never writes them). */
function pairsOf(p: LocalPort): Array<{ version: 4 | 6; addr: string; mac: string }> {
  const out: Array<{ version: 4 | 6; addr: string; mac: string }> = [];
  for (const pair of p.allowedAddressPairs ?? []) {
    const a = safe(() => {
      if (!pair.ipAddress.includes('/')) {
        const x = parseAddress(pair.ipAddress);
        return { version: x.version, addr: formatAddress(x) };
      }
      const pre = parsePrefix(pair.ipAddress);
      const full = pre.length === (pre.version === 4 ? 32 : 128);
      return { version: pre.version, addr: full ? formatAddress({ version: pre.version, value: pre.network }) : formatPrefix(pre) };
    });
    if (a !== null) out.push({ ...a, mac: pair.macAddress.toLowerCase() });
  }
  return out;
}

export const hasPairs = (p: LocalPort): boolean => (p.allowedAddressPairs?.length ?? 0) > 0;

const set = (xs: Iterable<string>): string => `{ ${[...new Set(xs)].sort().join(', ')} }`;

/**
 * VLAN-tagged frames (802.1Q, 802.1ad) from a VM are dropped (their inner
 * headers are not matched). Two rules, not `ether type { 8021q, 8021ad }`:
 * no set per port (`noneOf` in nft.ts says why).
 */
export const VLAN_TAGS_DROP: NftRule[] = [nftRule('ether type 8021q drop'), nftRule('ether type 8021ad drop')];

/**
 * Anti-spoofing of a port with pairs: the same checks as `spoofRules`, each
 * on (MAC, address); `link` (source MAC, no VLAN tags) goes first, then the
 * caller's own rules, then `addresses`. `own` are the port's addresses by version as spoofRules
 * computed them: `arp4` what it may claim in ARP, `ip4`/`ip6` what it may
 * send from (its fixed IPs, accepted BGP prefixes, v6 link-local and `::`).
 */
export function pairSpoofRules(p: LocalPort, own: { arp4: string[]; ip4: string[]; ip6: string[] }, servers: string[]): { link: NftRule[]; addresses: NftRule[] } {
  const mac = p.mac.toLowerCase();
  const pairs = pairsOf(p);
  const bind = (m: string, a: string): string => `${m} . ${a}`;
  const arp = [bind(mac, '0.0.0.0'), ...own.arp4.map((a) => bind(mac, a)), ...pairs.filter((x) => x.version === 4).map((x) => bind(x.mac, x.addr))];
  const ip4 = [...own.ip4.map((a) => bind(mac, a)), ...pairs.filter((x) => x.version === 4).map((x) => bind(x.mac, x.addr))];
  const ip6 = [...own.ip6.map((a) => bind(mac, a)), ...pairs.filter((x) => x.version === 6).map((x) => bind(x.mac, x.addr))];
  const macs = [mac, ...pairs.map((x) => x.mac)];
  const link = [nftRule(`${noneOf('ether saddr', macs)} drop`), ...VLAN_TAGS_DROP];
  // (MAC, address) concatenations have no inline form: these stay sets, for ports with pairs only.
  const addresses = [
    nftRule(`${noneOf('arp saddr ether', macs)} drop`),
    nftRule(`arp saddr ether . arp saddr ip != ${set(arp)} drop`),
    nftRule('ip saddr 0.0.0.0 udp sport 68 udp dport 67 return'),
    ...dhcpRenewalRules(servers),
    nftRule(ip4.length > 0 ? `ether saddr . ip saddr != ${set(ip4)} drop` : 'ether type ip drop'),
    nftRule(`ether saddr . ip6 saddr != ${set(ip6)} drop`),
  ];
  return { link, addresses };
}

/**
 * The rule feeding the GARP watcher: the port's ARP with sender and target
 * address within its IPv4 pairs (the watcher checks sender = target), logged
 * with the port's id as prefix. None when the port has no IPv4 pair (IPv6
 * has no gratuitous ARP; unsolicited neighbour advertisements are not
 * watched yet).
 */
export function garpLogRule(p: LocalPort): NftRule | null {
  const v4 = pairsOf(p).filter((x) => x.version === 4);
  if (v4.length === 0) return null;
  const both = set(v4.map((x) => `${x.addr} . ${x.addr}`));
  // queue-threshold 1: nflog otherwise batches up to 100 frames or 1 s before it wakes the reader (measured: ~1 s per GARP).
  return nftRule(`arp saddr ip . arp daddr ip ${both} log prefix "${p.id}" group ${GARP_LOG_GROUP} queue-threshold 1`);
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
