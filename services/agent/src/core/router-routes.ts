/**
 * A router's static routes (Neutron's extraroute, `RoutingDomain.routes`)
 * in its domain namespace, on every host realising the router. Pure.
 *
 * Each route goes out of the gateway interface (`qr<VNI>`) of the router's
 * subnet that holds its next hop: the next hop is a VM or appliance on that
 * subnet, and the domain namespace already has its permanent neighbour
 * entry (the overlay's), so the routed packet leaves with the appliance's
 * MAC, straight to its host, as any routed packet does (one hop, on the
 * source host). A route is skipped, never fatal, when its next hop is on no
 * subnet of the router here, its families differ, or its destination is a
 * subnet the router is joined to (a `replace` would take that connected
 * route away). A router's peering routes (`RoutingDomain.peerings`) go out
 * of its link to the segment the same way, via the peer's transit address.
 */
import type { DomainPeering, HostNetwork } from '@strata/contracts';
import { contains, formatAddress, formatPrefix, parseAddress, parsePrefix, type Prefix } from '@strata/netaddr';
import { domainNamespace, gatewayDomainEnd, peeringDomainEnd } from './names.js';
import type { HostViewSnapshot } from './snapshot.js';
import { routeKey, type KernelState, type RouteEntry } from './types.js';

export function desiredRouterRoutes(view: HostViewSnapshot, nsPrefix: string, namespaces: KernelState['namespaces']): Pick<KernelState, 'routes'> {
  const routes: KernelState['routes'] = {};
  for (const domain of Object.values(view.domains)) {
    const ns = domainNamespace(nsPrefix, domain.id);
    const peeringRoutes = (domain.peerings ?? []).flatMap((p) => p.routes);
    if ((!domain.routes?.length && !peeringRoutes.length) || !namespaces[ns]) continue;
    const subnets = [...gatewaySubnets(Object.values(view.networks).filter((n) => n.domainId === domain.id)), ...transitSubnets(domain.peerings ?? [])];
    for (const r of [...(domain.routes ?? []), ...peeringRoutes]) {
      const e = routeEntry(ns, r, subnets);
      if (e) routes[routeKey(e)] = e;
    }
  }
  return { routes };
}

interface GatewaySubnet {
  prefix: Prefix;
  dev: string;
}

function gatewaySubnets(networks: HostNetwork[]): GatewaySubnet[] {
  const out: GatewaySubnet[] = [];
  for (const net of networks) {
    for (const s of net.subnets) {
      // A subnet without a gateway is not routed by the router: no next hop can be reached through it.
      const prefix = s.gatewayIp === null ? null : safe(() => parsePrefix(s.cidr, false));
      if (prefix) out.push({ prefix, dev: gatewayDomainEnd(net.vni) });
    }
  }
  return out;
}

/** A router's peering links (core/peering.ts): the routes to its peers' prefixes go out of them. */
function transitSubnets(peerings: readonly DomainPeering[]): GatewaySubnet[] {
  return peerings.flatMap((p) => {
    const prefix = safe(() => parsePrefix(p.cidr));
    return prefix ? [{ prefix, dev: peeringDomainEnd(p.vni) }] : [];
  });
}

function routeEntry(ns: string, r: { destination: string; nexthop: string }, subnets: GatewaySubnet[]): RouteEntry | null {
  const dst = safe(() => parsePrefix(r.destination, false));
  const via = safe(() => parseAddress(r.nexthop));
  if (!dst || !via || dst.version !== via.version) return null;
  if (subnets.some((s) => s.prefix.version === dst.version && s.prefix.length === dst.length && s.prefix.network === dst.network)) return null;
  const on = subnets.find((s) => s.prefix.version === via.version && contains(s.prefix, via));
  if (!on) return null;
  return { ns, dst: formatPrefix(dst), dev: on.dev, via: formatAddress(via) };
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
