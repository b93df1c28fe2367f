/**
 * Routed networks' subnets are advertised to the physical fabric by the BGP
 * gateway, so they are confined to the operator's routed address space
 * (`routed` pools, @strata/contracts ipam/routed-scope.ts): a tenant can
 * neither announce a prefix the operator did not hand out for routing
 * (0.0.0.0/0, another organisation's) nor one overlapping another tenant's
 * routed subnet.
 */
import { AlreadyExistsError, ValidationError } from '@strata/errors';
import { routedPoolCovering } from '@strata/contracts';
import { covers, overlaps, parsePrefix, type Prefix } from '@strata/netaddr';
import type { IpamState, PoolEntry, SubnetEntry } from '../state.js';

/** Refuses a subnet of a routed network of `tenant` outside every routed pool, or overlapping another tenant's routed subnet. */
export function checkRoutedSubnet(state: IpamState, tenant: string, networkId: string, cidr: string): void {
  const prefix = parsePrefix(cidr);
  if (!routedPoolCovering(Object.values(state.cloud.pools), cidr)) {
    throw new ValidationError(
      `${cidr} is outside the routed address space: network ${networkId} is routed, so its subnets are advertised to the fabric and must lie ` +
        `inside a routed pool of IPv${prefix.version}; an operator must create a \`routed\` pool containing ${cidr} (strata pool create --purpose routed)`,
      { field: 'cidr' },
    );
  }
  // Another tenant's subnet is not named: its id and CIDR are not the caller's to know.
  if (routedSubnets(state).some((s) => s.tenant !== tenant && overlaps(prefix, parsePrefix(s.cidr)))) {
    throw new AlreadyExistsError(`${cidr} overlaps another tenant's routed subnet`, { field: 'cidr' });
  }
}

/** The routed subnets lying in a routed pool: it cannot be deleted while there are any. */
export function routedSubnetsIn(state: IpamState, pool: PoolEntry): SubnetEntry[] {
  const poolPrefix: Prefix = parsePrefix(pool.cidr);
  return routedSubnets(state).filter((s) => covers(poolPrefix, parsePrefix(s.cidr)));
}

function routedSubnets(state: IpamState): SubnetEntry[] {
  return Object.entries(state.networks)
    .filter(([id]) => state.cloud.networks[id]?.routed)
    .flatMap(([, n]) => Object.values(n.subnets));
}
