/**
 * Defence in depth behind IPAM's rule (@strata/contracts ipam/routed-scope.ts):
 * the gateway originates a routed subnet, and host routes of its ports, only
 * while the subnet lies inside a `routed` pool it has followed. A log written
 * before the rule existed (or by a bug) keeps replaying; its subnets outside
 * the routed address space are simply not advertised.
 */
import { routedPoolCovering } from '@strata/contracts';
import type { BgpState, FabricModel } from './state.js';

/** A predicate over subnet ids: does the subnet lie inside one of the fabric's routed pools? Memoised per call site. */
export function routedScope(fabric: FabricModel): (subnetId: string) => boolean {
  const pools = Object.entries(fabric.routedPools).map(([id, cidr]) => ({ id, cidr, purpose: 'routed' }));
  const known = new Map<string, boolean>();
  return (subnetId) => {
    let inside = known.get(subnetId);
    if (inside === undefined) {
      const s = fabric.subnets[subnetId];
      inside = s !== undefined && routedPoolCovering(pools, s.cidr) !== undefined;
      known.set(subnetId, inside);
    }
    return inside;
  };
}

/** Subnets of routed networks outside every routed pool, sorted: never advertised (the gateway warns about each once). */
export function unscopedRoutedSubnets(state: BgpState): { subnetId: string; cidr: string; networkId: string }[] {
  const { networks, subnets } = state.fabric;
  const inScope = routedScope(state.fabric);
  return Object.entries(subnets)
    .filter(([id, s]) => networks[s.networkId]?.routed && !inScope(id))
    .map(([subnetId, s]) => ({ subnetId, cidr: s.cidr, networkId: s.networkId }))
    .sort((a, b) => (a.subnetId < b.subnetId ? -1 : a.subnetId > b.subnetId ? 1 : 0));
}
