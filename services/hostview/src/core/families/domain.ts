/**
 * `<H>.domain.<D>` (RoutingDomain): the routing domain of a network H needs
 * (a router with its external gateway from NAT, or a lone network), with
 * the networks of it H needs.
 */
import { hostviewKey, type RoutingDomain } from '@strata/contracts';
import type { Change } from '../model.js';
import { domainNetworks, hostsOfDomain } from '../topology.js';
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
    if (router) return { ...(model.nat.gateways.has(domainId) ? { externalGateway: true } : {}), id: domainId, kind: 'router', networkIds, tenant: router.tenant };
    return { id: domainId, kind: 'network', networkIds, tenant: model.ipam.networks.get(domainId)!.tenant };
  },
  encode: stringify,
  *entries(model, hostId, needs) {
    for (const id of needs.domains) yield [hostviewKey.domain(hostId, id), this.value(model, { hostId, kind: 'domain', id, portId: '', name: id }, needs)];
  },
  *hosts(model, change) {
    for (const d of domainsTouched(change)) yield* hostsOfDomain(model.ipam, d);
  },
  *touched(_model, hostId, change) {
    for (const d of domainsTouched(change)) yield hostviewKey.domain(hostId, d);
  },
};

/** IPAM names every domain whose record or member networks can have changed; NAT, the routers whose gateway did. */
function* domainsTouched(change: Change): Iterable<string> {
  yield* change.ipam.domains;
  yield* change.nat.routers;
}
