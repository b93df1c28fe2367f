/** What a router offers its peers (contracts ipam/peering.ts `peeringPrefixes`), from IPAM's state. */
import { peeringPrefixes } from '@strata/contracts';
import type { IpamState } from './state.js';

export function routerPrefixes(state: IpamState, routerId: string): string[] {
  const router = state.routers[routerId];
  if (!router) return [];
  return peeringPrefixes(Object.entries(router.interfaces).flatMap(([subnetId, networkId]) => state.networks[networkId]?.subnets[subnetId]?.cidr ?? []));
}
