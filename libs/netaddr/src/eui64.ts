/**
 * Modified EUI-64 interface identifiers (RFC 4291 appendix A): the 48-bit
 * MAC split in two around ff:fe, with the universal/local bit inverted.
 * What SLAAC computes in a VM's kernel (addr_gen_mode eui64) and what
 * Neutron's IPAM records for a port on a SLAAC or DHCPv6-stateless subnet.
 */
import { formatAddress, type Prefix } from './index.js';

/** The 64-bit interface identifier of a MAC (aa:bb:cc:dd:ee:ff), or null when it is not one. */
export function eui64InterfaceId(mac: string): bigint | null {
  const b = mac.split(':').map((x) => (/^[0-9a-fA-F]{2}$/.test(x) ? parseInt(x, 16) : NaN));
  if (b.length !== 6 || b.some((x) => Number.isNaN(x))) return null;
  const bytes = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return bytes.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
}

/** The EUI-64 address of `mac` in a /64 (IPv6), canonical text; null for a bad MAC or another prefix. */
export function eui64Address(prefix: Prefix, mac: string): string | null {
  const iid = eui64InterfaceId(mac);
  if (iid === null || prefix.version !== 6 || prefix.length !== 64) return null;
  return formatAddress({ version: 6, value: prefix.network | iid });
}

/** fe80::/64 */
export const LINK_LOCAL_PREFIX: Prefix = { version: 6, network: 0xfe80n << 112n, length: 64 };

/** The link-local address Linux gives an interface with this MAC by default (addr_gen_mode eui64). */
export const eui64LinkLocal = (mac: string): string | null => eui64Address(LINK_LOCAL_PREFIX, mac);
