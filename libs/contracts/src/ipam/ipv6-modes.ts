/**
 * How an IPv6 subnet's hosts get their addresses, chosen per subnet with
 * Neutron's two attributes and values:
 *
 *   ipv6RaMode       who sends router advertisements: set, the subnet's
 *                    anycast gateway on the VM's own hypervisor; null, not
 *                    Strata (an outside router, or none).
 *   ipv6AddressMode  how addresses are assigned: `slaac` (EUI-64 of the
 *                    port's MAC), `dhcpv6-stateful` (the address IPAM
 *                    allocated, handed out by DHCPv6), `dhcpv6-stateless`
 *                    (EUI-64, other options by DHCPv6).
 *
 * When only one is set, it stands for both where an address mode is
 * needed (Neutron's table: every single-attribute setting is valid; both
 * set must be equal). IPAM's validation: services/ipam/src/domain/ipv6-modes.ts.
 */
import { z } from 'zod';

export const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
export const Ipv6Mode = z.enum(IPV6_MODES);
export type Ipv6Mode = z.infer<typeof Ipv6Mode>;

export interface Ipv6Modes {
  ipv6RaMode: Ipv6Mode | null;
  ipv6AddressMode: Ipv6Mode | null;
}

/** The address mode in effect: the address mode, else the RA mode (Neutron's `is_auto_address_subnet`); null: neither set. */
export const effectiveAddressMode = (m: Partial<Ipv6Modes>): Ipv6Mode | null => m.ipv6AddressMode ?? m.ipv6RaMode ?? null;

/** A port's address on the subnet is the EUI-64 of its MAC (SLAAC and DHCPv6-stateless), not an allocation from the pools. */
export const isAutoAddressSubnet = (m: Partial<Ipv6Modes>): boolean => {
  const mode = effectiveAddressMode(m);
  return mode === 'slaac' || mode === 'dhcpv6-stateless';
};

/** The RA flags each RA mode sends (RFC 4861): A (autonomous, on the prefix), M (managed), O (other configuration). */
export const raFlags = (mode: Ipv6Mode): { autonomous: boolean; managed: boolean; other: boolean } => ({
  autonomous: mode !== 'dhcpv6-stateful',
  managed: mode === 'dhcpv6-stateful',
  other: mode !== 'slaac',
});

/** The modes that are set, as optional fields (events and the host view leave out what is not set). */
export const presentIpv6Modes = (m: Partial<Ipv6Modes>): { ipv6RaMode?: Ipv6Mode; ipv6AddressMode?: Ipv6Mode } => ({
  ...(m.ipv6RaMode ? { ipv6RaMode: m.ipv6RaMode } : {}),
  ...(m.ipv6AddressMode ? { ipv6AddressMode: m.ipv6AddressMode } : {}),
});

/** Both modes, null where not set (views and state). */
export const ipv6ModesOf = (m: Partial<Ipv6Modes>): Ipv6Modes => ({ ipv6RaMode: m.ipv6RaMode ?? null, ipv6AddressMode: m.ipv6AddressMode ?? null });
