/**
 * IPAM's rules for a subnet's IPv6 modes (contracts ipam/ipv6-modes.ts),
 * Neutron's where Neutron has one. Pure; each refusal is a ValidationError
 * naming the field and what is wrong, thrown before anything is decided.
 */
import { ValidationError } from '@strata/errors';
import { effectiveAddressMode, isAutoAddressSubnet, type Ipv6Modes } from '@strata/contracts';
import { eui64Address, parsePrefix, type Prefix } from '@strata/netaddr';

export interface SubnetModesInput extends Ipv6Modes {
  cidr: string;
  gatewayIp: string | null;
  enableDhcp: boolean;
}

export function checkIpv6Modes(s: SubnetModesInput): void {
  const { ipv6RaMode: ra, ipv6AddressMode: addr } = s;
  if (ra === null && addr === null) return;
  const field = ra !== null ? 'ipv6RaMode' : 'ipv6AddressMode';
  const prefix = parsePrefix(s.cidr);
  if (prefix.version === 4) {
    throw new ValidationError(`${field}: IPv6 modes cannot be set on an IPv4 subnet (${s.cidr})`, { field });
  }
  if (ra !== null && addr !== null && ra !== addr) {
    throw new ValidationError(
      `ipv6RaMode ${ra} with ipv6AddressMode ${addr} is not a valid combination: when both are set they must be equal`,
      { field: 'ipv6AddressMode' },
    );
  }
  if (!s.enableDhcp) {
    throw new ValidationError(`${field}: IPv6 modes need DHCP enabled on the subnet (enableDhcp is false)`, { field });
  }
  if (s.gatewayIp === null) {
    // Strata serves RAs and DHCPv6 from the subnet's anycast gateway on each hypervisor.
    throw new ValidationError(`${field}: IPv6 modes need a gateway (router advertisements and DHCPv6 are sent from it)`, { field });
  }
  if (isAutoAddressSubnet(s) && prefix.length !== 64) {
    throw new ValidationError(
      `${field}: ${effectiveAddressMode(s)} needs a /64 prefix (addresses are EUI-64: prefix + 64-bit interface id), ${s.cidr} is /${prefix.length}`,
      { field },
    );
  }
}

/** A port's address on an auto-address subnet (SLAAC, DHCPv6-stateless): the EUI-64 of its MAC in the /64. */
export function autoAddress(prefix: Prefix, mac: string): string {
  const ip = eui64Address(prefix, mac);
  // checkIpv6Modes admits auto-address modes on /64s only and MACs are validated at the boundary.
  if (ip === null) throw new ValidationError(`MAC ${mac} gives no EUI-64 address in a /${prefix.length}`, { field: 'mac' });
  return ip;
}
