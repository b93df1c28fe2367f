/**
 * `<H>.domain.<D>` (RoutingDomain): the routing domain of a network H needs
 * (a router with its external gateway from NAT, its static routes and its
 * peerings, or a lone network), with the networks of it H needs.
 */
import { hostviewKey, type RoutingDomain } from '@strata/contracts';
import type { StaticRoute } from '../inputs/ipam.js';
import type { Change } from '../model.js';
import { domainNetworks, hostsOfDomain } from '../topology.js';
import { domainPeerings } from '../inputs/peering.js';
import { stringify, type KeyFamily } from './family.js';

export const domainFamily: KeyFamily<'domain'> = {
  kind: 'domain',
  putOrder: 1,
  value(model, k, needs): RoutingDomain | undefined {
    const domainId = k.id;
    if (!needs.domains.has(domainId)) return undefined;
    const networkIds = domainNetworks(model.ipam, domainId).filter((n) => needs.networks.has(n));
    if (networkIds.length === 0) return undefined;
    const router = model.ipam.routers.get(domainId);
    if (router) {
      return {
        ...(model.nat.gateways.has(domainId) ? { externalGateway: true } : {}),
        id: domainId,
        kind: 'router',
        networkIds,
        ...routesOf(router.routes),
        ...peeringsOf(model, domainId),
        tenant: router.tenant,
      };
    }
    return { id: domainId, kind: 'network', networkIds, tenant: model.ipam.networks.get(domainId)!.tenant };
  },
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const id of needs.domains) put(hostviewKey.domain(hostId, id), this.value(model, { hostId, id, portId: '' }, needs));
  },
  hosts(model, change, add) {
    for (const ds of domainsTouched(change)) for (const d of ds) for (const h of hostsOfDomain(model.ipam, d)) add(h);
  },
  touched(_model, hostId, change, _needs, add) {
    for (const ds of domainsTouched(change)) for (const d of ds) add(hostviewKey.domain(hostId, d));
  },
};

/** `{routes}` sorted by destination then next hop (a deterministic value whatever order IPAM kept), or nothing when none. */
function routesOf(routes: readonly StaticRoute[]): { routes?: StaticRoute[] } {
  if (routes.length === 0) return {};
  const key = (r: StaticRoute): string => `${r.destination} ${r.nexthop}`;
  return { routes: routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

function peeringsOf(model: Parameters<KeyFamily<'domain'>['value']>[0], routerId: string): Pick<RoutingDomain, 'peerings'> {
  const peerings = domainPeerings(model.ipam, routerId);
  return peerings ? { peerings } : {};
}

/** IPAM names every domain whose record or member networks can have changed; NAT, the routers whose gateway did. */
const domainsTouched = (change: Change): Iterable<string>[] => [change.ipam.domains, change.nat.routers];
