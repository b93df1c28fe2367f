/**
 * The operator's routed address space: the `routed` pools. A routed
 * network's subnet is advertised to the physical fabric, so it must lie
 * entirely inside one routed pool of its IP version: IPAM refuses any
 * other (services/ipam, decide/subnet.ts) and the BGP gateway never
 * originates one (services/bgp-gateway, domain/advertisements.ts), so a
 * tenant cannot make the gateway announce 0.0.0.0/0 or another
 * organisation's prefix. Defined once here for both.
 */
import { covers, parsePrefix } from '@strata/netaddr';

export interface ScopePool {
  id: string;
  cidr: string;
  purpose: string;
}

/** The routed pool that contains all of `cidr` (same IP version), or undefined: outside the routed address space. */
export function routedPoolCovering<P extends ScopePool>(pools: Iterable<P>, cidr: string): P | undefined {
  const prefix = parsePrefix(cidr);
  for (const p of pools) if (p.purpose === 'routed' && covers(parsePrefix(p.cidr), prefix)) return p;
  return undefined;
}
