/**
 * Allowed address pairs and their owners: the pure rules every reader of
 * IPAM's pair events shares (IPAM's own state, hostview's ipam input, the
 * agent's GARP watcher), so none keeps a diverging copy.
 *
 * A pair (Neutron's semantics) is an address or a CIDR a port may also send
 * from, with the MAC it may use for it (IPAM records the port's own MAC when
 * none was given). The *owner* of one address of a network is the port
 * whose gratuitous ARP for it was last accepted (`ipam.AddressPairOwnerChanged`):
 * the VRRP master. An owner is only ever a port that still has a pair
 * admitting the address with the owner's MAC: a port's deletion or a change
 * of its pairs ends the ownerships its pairs no longer admit
 * (`ownershipsEnded`), in IPAM and in every follower alike, without an event.
 */
import { z } from 'zod';
import { AddressError, canonicalAddress, contains, parseAddress, parsePrefix, bits, formatPrefix } from '@strata/netaddr';

/**
 * An address (`10.0.0.5`) or a CIDR with host bits zero (`10.0.0.0/24`),
 * canonical; a full-length prefix (`/32`, `/128`) is the address itself.
 */
export const PairAddress = z.string().transform((text, ctx) => {
  try {
    if (!text.includes('/')) return canonicalAddress(text);
    const p = parsePrefix(text);
    return p.length === bits(p.version) ? canonicalAddress(text.slice(0, text.indexOf('/'))) : formatPrefix(p);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof AddressError ? e.message : String(e) });
    return z.NEVER;
  }
});

/** A pair as IPAM records it: the MAC is always explicit. */
export interface AllowedAddressPair {
  /** An address or a CIDR (canonical, as `PairAddress` makes it). */
  ipAddress: string;
  macAddress: string;
}

/** The current owner of one pair address of a network. */
export interface PairOwner {
  portId: string;
  mac: string;
}

/** The IP version of a pair's address or CIDR. */
export const pairVersion = (pair: Pick<AllowedAddressPair, 'ipAddress'>): 4 | 6 => (pair.ipAddress.includes(':') ? 6 : 4);

/** Does the pair's address or CIDR contain `ip` (an address)? */
export function pairContains(pair: Pick<AllowedAddressPair, 'ipAddress'>, ip: string): boolean {
  let a;
  try {
    a = parseAddress(ip);
  } catch {
    return false;
  }
  if (!pair.ipAddress.includes('/')) return canonicalAddress(ip) === pair.ipAddress;
  return contains(parsePrefix(pair.ipAddress), a);
}

/** May a port with these pairs own `ip` with `mac`: does one pair contain the address with exactly that MAC? */
export const pairsAdmit = (pairs: readonly AllowedAddressPair[] | undefined, ip: string, mac: string): boolean =>
  (pairs ?? []).some((p) => p.macAddress === mac && pairContains(p, ip));

/**
 * The addresses of a network whose ownership by `portId` ends when the port's
 * pairs become `pairs` (undefined or empty: the port is deleted or has none).
 * `owners` is the network's ip → owner table.
 */
export function ownershipsEnded(
  owners: Readonly<Record<string, PairOwner>> | ReadonlyMap<string, PairOwner> | undefined,
  portId: string,
  pairs: readonly AllowedAddressPair[] | undefined,
): string[] {
  if (!owners) return [];
  const entries = owners instanceof Map ? [...owners.entries()] : Object.entries(owners as Record<string, PairOwner>);
  return entries.filter(([ip, o]) => o.portId === portId && !pairsAdmit(pairs, ip, o.mac)).map(([ip]) => ip);
}
