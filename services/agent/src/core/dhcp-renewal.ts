/**
 * Anti-spoofing's one exception for addresses: a DHCP client's requests to
 * its DHCP servers from an address the port may no longer have. Used by the
 * anti-spoofing of ports with and without allowed address pairs
 * (secgroups.ts, address-pairs.ts). Pure.
 *
 * Verified here: with the requests dropped, busybox udhcpc whose fixed IP
 * moved sent 3 unicast renewals and 3 broadcast rebinds that never reached
 * dnsmasq, then gave the lease up and discovered the new address (~6 s); an
 * RFC 2131 client that waits for T2 and the lease's end (dhclient) would
 * keep the dead address for up to a day. Let through, the server refuses
 * the renewal (DHCPNAK, `dhcp-authoritative`) and the client starts over at
 * once.
 */
import type { HostViewSnapshot } from './snapshot.js';
import { formatAddress, parseAddress } from '@strata/netaddr';
import { anyOf, nftRule, type NftRule } from './nft.js';

/**
 * Where a port's DHCP client sends a renewal: the gateway (the local DHCP
 * server, anycast on every host) of each DHCP-enabled IPv4 subnet of its
 * network, sorted.
 */
export function dhcpServers(view: HostViewSnapshot, networkId: string): string[] {
  const out = new Set<string>();
  for (const s of view.networks[networkId]?.subnets ?? []) {
    if (s.ipVersion !== 4 || !s.enableDhcp || s.gatewayIp === null) continue;
    try {
      const a = parseAddress(s.gatewayIp);
      if (a.version === 4) out.add(formatAddress(a));
    } catch {
      // IPAM never writes a bad gateway; skip it rather than fail the host.
    }
  }
  return [...out].sort();
}

/**
 * DHCP client requests (UDP 68 → 67) from any source address, only to the
 * port's DHCP servers and the broadcast address (a rebinding client
 * broadcasts): one `return` rule per destination (`anyOf`: no set per
 * port); the port's MAC is checked before these rules.
 */
export function dhcpRenewalRules(servers: string[]): NftRule[] {
  return anyOf('ip daddr', [...servers, '255.255.255.255']).map((to) => nftRule(`${to} udp sport 68 udp dport 67 return`));
}
