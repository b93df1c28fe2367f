/**
 * IPv6 address configuration for a routing domain's dnsmasq: router
 * advertisements and DHCPv6 from the anycast gateway (qrV) of each network,
 * chosen per subnet by its IPv6 modes (contracts ipam/ipv6-modes.ts). Pure.
 *
 *   RA mode   → dnsmasq range mode          RA flags (A, M, O)
 *   slaac       ra-only                     1, 0, 0
 *   stateless   ra-stateless                1, 0, 1   (+ DHCPv6 information-request answers)
 *   stateful    static + enable-ra          0, 1, 1   (+ static DHCPv6 leases: dhcp-host=<mac>,[<ip>])
 *
 * An address mode without an RA mode (Neutron: "RAs come from elsewhere")
 * serves DHCPv6 only (a `static` range), no RA of its own; but `enable-ra`
 * is per server, so in a domain that also has a stateful RA subnet dnsmasq
 * advertises that subnet's prefix too (docs/architecture.md, "IPv6").
 *
 * The RA's source and the default router of every VM is the gateway's
 * link-local address, fe80::EUI-64(gateway MAC): the gateway MAC is the same
 * on every host, so a VM that migrates keeps its router. The server DUID is
 * derived from the domain (DUID-EN), the same on every host, so a client
 * renewing after a migration is answered by its new host's server.
 */
import { createHash } from 'node:crypto';
import { effectiveAddressMode, type HostNetwork, type Ipv6Mode, type SubnetInfo } from '@strata/contracts';
import { eui64LinkLocal, formatAddress, type Prefix } from '@strata/netaddr';

export interface Dhcp6Subnet {
  tag: string;
  iface: string;
  /** Network address of the prefix and its length. */
  network: string;
  length: number;
  /** The address mode served (the subnet's address mode, else its RA mode). */
  mode: Ipv6Mode;
  /** This server sends RAs for the prefix (the subnet has an RA mode). */
  ra: boolean;
  /** The network's MTU, advertised in the RAs. */
  mtu: number;
  leaseSeconds: number;
  /** The subnet's IPv6 DNS servers (DHCPv6 option 23; dnsmasq also puts them in its RAs as RDNSS). */
  dnsServers: string[];
}

export interface Dhcp6Spec {
  /** DUID-EN of the server: `<enterprise>,<uid hex>` (dnsmasq's dhcp-duid). */
  serverDuid: string;
  /** dnsmasq's global enable-ra: needed for the M flag on a stateful prefix (its other modes advertise per range). */
  enableRa: boolean;
  subnets: Dhcp6Subnet[];
  /** Per gateway interface with RAs: the MTU advertised (the network's). */
  raParams: { iface: string; mtu: number }[];
}

/** IANA's example enterprise number (RFC 5612): a DUID-EN that is no vendor's. */
const DUID_ENTERPRISE = 32473;

export const serverDuid = (domainId: string): string => `${DUID_ENTERPRISE},${createHash('sha256').update(domainId).digest('hex').slice(0, 16)}`;

/** The gateway's link-local address on a network: every host's, derived from the network's gateway MAC. */
export const gatewayLinkLocal = (net: HostNetwork): string | null => eui64LinkLocal(net.gatewayMac.toLowerCase());

/** The dnsmasq range of one IPv6 subnet with a gateway here, or null when it has no modes (nothing to serve). */
export function dhcp6Subnet(subnet: SubnetInfo, prefix: Prefix, iface: string, mtu: number, tag: string, leaseSeconds: number): Dhcp6Subnet | null {
  const mode = effectiveAddressMode(subnet);
  if (subnet.ipVersion !== 6 || !subnet.enableDhcp || mode === null) return null;
  // SLAAC without an RA mode: the VM configures itself from someone else's RAs; nothing to serve.
  if (mode === 'slaac' && subnet.ipv6RaMode === undefined) return null;
  const network = formatAddress({ version: 6, value: prefix.network });
  const dnsServers = (subnet.dnsNameservers ?? []).filter((ip) => ip.includes(':'));
  return { tag, iface, network, length: prefix.length, mode, ra: subnet.ipv6RaMode !== undefined, mtu, leaseSeconds, dnsServers };
}

/** A subnet whose addresses this server hands out by DHCPv6 (static leases from IPAM). */
export const servesAddresses = (s: Dhcp6Subnet): boolean => s.mode === 'dhcpv6-stateful';

export function dhcp6Spec(domainId: string, subnets: Dhcp6Subnet[]): Dhcp6Spec | undefined {
  if (subnets.length === 0) return undefined;
  const raParams = new Map(subnets.filter((s) => s.ra).map((s) => [s.iface, { iface: s.iface, mtu: s.mtu }]));
  return {
    serverDuid: serverDuid(domainId),
    enableRa: subnets.some((s) => s.ra && s.mode === 'dhcpv6-stateful'),
    subnets,
    raParams: [...raParams.values()].sort((a, b) => (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0)),
  };
}

/** dnsmasq's range mode for a subnet (see the table above). */
export function rangeMode(s: Dhcp6Subnet): string {
  if (s.mode === 'slaac') return 'ra-only';
  if (s.mode === 'dhcpv6-stateless') return s.ra ? 'ra-stateless' : 'static';
  return 'static';
}
