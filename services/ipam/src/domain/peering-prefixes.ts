/**
 * What a router offers its peers: the IPv4 CIDRs of the subnets it joins
 * (the transit subnets are IPv4, so IPv6 prefixes are not peered yet).
 */
import { parsePrefix } from '@strata/netaddr';
import type { IpamState } from './state.js';

export function routerPrefixes(state: IpamState, routerId: string): string[] {
  const router = state.routers[routerId];
  if (!router) return [];
  return Object.entries(router.interfaces)
    .flatMap(([subnetId, networkId]) => state.networks[networkId]?.subnets[subnetId]?.cidr ?? [])
    .filter((cidr) => parsePrefix(cidr).version === 4)
    .sort();
}
