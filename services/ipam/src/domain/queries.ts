/** Read side: state → the views queries answer with, scoped to what the caller may see. */
import { NotFoundError } from '@strata/errors';
import type {
  ApplicationPrefixView,
  FloatingIpView,
  HypervisorView,
  IpamQuery,
  NetworkView,
  Page,
  PoolView,
  PortView,
  RouterView,
  SubnetView,
} from '@strata/contracts';
import { ipv6ModesOf } from '@strata/contracts';
import { canSee, page, requireAdmin, visible } from '@strata/service-kit';
import type { Caller } from './decide/types.js';
import type { IpamState, NetworkEntry, NetworkState, PortEntry, RouterEntry, SubnetEntry } from './state.js';

export const networkView = (n: NetworkEntry): NetworkView => ({ ...n });

export const subnetView = (s: SubnetEntry): SubnetView => ({
  id: s.id,
  tenant: s.tenant,
  networkId: s.networkId,
  name: s.name,
  ipVersion: s.ipVersion,
  cidr: s.cidr,
  gatewayIp: s.gatewayIp,
  allocationPools: s.allocationPools,
  enableDhcp: s.enableDhcp,
  dnsNameservers: s.dnsNameservers,
  hostRoutes: s.hostRoutes,
  description: s.description,
  revision: s.revision,
  ...ipv6ModesOf(s),
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

export const portView = (p: PortEntry, n: NetworkState | undefined): PortView => ({
  ...p,
  fixedIps: p.fixedIps.map((f) => ({ ...f })),
  allowedAddressPairs: (p.allowedAddressPairs ?? []).map((a) => ({ ...a })),
  ownedAddresses: Object.entries(n?.pairOwners ?? {})
    .filter(([, o]) => o.portId === p.id)
    .map(([ip]) => ip)
    .sort(),
});

export function getNetwork(s: IpamState, c: Caller, q: IpamQuery<'network.get'>): NetworkView {
  return networkView(visible(c, 'network', q.id, s.cloud.networks[q.id]));
}

export function listNetworks(s: IpamState, c: Caller, q: IpamQuery<'network.list'>): Page<NetworkView> {
  return page(Object.values(s.cloud.networks).filter((n) => canSee(c, n.tenant)).map(networkView), q);
}

export function getSubnet(s: IpamState, c: Caller, q: IpamQuery<'subnet.get'>): SubnetView {
  const networkId = s.subnetNetwork[q.id];
  const subnet = networkId === undefined ? undefined : s.networks[networkId]?.subnets[q.id];
  return subnetView(visible(c, 'subnet', q.id, subnet));
}

export function listSubnets(s: IpamState, c: Caller, q: IpamQuery<'subnet.list'>): Page<SubnetView> {
  const nets = q.networkId === undefined ? Object.values(s.networks) : [s.networks[q.networkId]].filter((n) => n !== undefined);
  const subnets = nets.flatMap((n) => Object.values(n.subnets)).filter((x) => canSee(c, x.tenant));
  return page(subnets.map(subnetView), q);
}

export function getPort(s: IpamState, c: Caller, q: IpamQuery<'port.get'>): PortView {
  const networkId = s.portNetwork[q.id];
  const port = networkId === undefined ? undefined : s.networks[networkId]?.ports[q.id];
  return portView(visible(c, 'port', q.id, port), networkId === undefined ? undefined : s.networks[networkId]);
}

export function listPorts(s: IpamState, c: Caller, q: IpamQuery<'port.list'>): Page<PortView> {
  const nets = q.networkId === undefined ? Object.values(s.networks) : [s.networks[q.networkId]].filter((n) => n !== undefined);
  const ports = nets
    .flatMap((n) => Object.values(n.ports))
    .filter((p) => canSee(c, p.tenant) && (q.hostId === undefined || p.hostId === q.hostId));
  return page(ports.map((p) => portView(p, s.networks[p.networkId])), q);
}

export function getHypervisor(s: IpamState, c: Caller, q: IpamQuery<'hypervisor.get'>): HypervisorView {
  requireAdmin(c, 'reading hypervisors');
  const h = s.cloud.hypervisors[q.id];
  if (!h) throw new NotFoundError('hypervisor', q.id);
  return { ...h };
}

export function listHypervisors(s: IpamState, c: Caller, q: IpamQuery<'hypervisor.list'>): Page<HypervisorView> {
  requireAdmin(c, 'listing hypervisors');
  return page(Object.values(s.cloud.hypervisors).map((h) => ({ ...h })), q);
}

/** Pools are shared infrastructure: every tenant may see them (to pick one for a floating IP). */
export function getPool(s: IpamState, _c: Caller, q: IpamQuery<'pool.get'>): PoolView {
  const p = s.cloud.pools[q.id];
  if (!p) throw new NotFoundError('pool', q.id);
  return { ...p };
}

export function listPools(s: IpamState, _c: Caller, q: IpamQuery<'pool.list'>): Page<PoolView> {
  return page(Object.values(s.cloud.pools).map((p) => ({ ...p })), q);
}

export function getFloatingIp(s: IpamState, c: Caller, q: IpamQuery<'floatingip.get'>): FloatingIpView {
  return { ...visible(c, 'floating IP', q.id, s.cloud.floatingIps[q.id]) };
}

export function listFloatingIps(s: IpamState, c: Caller, q: IpamQuery<'floatingip.list'>): Page<FloatingIpView> {
  return page(Object.values(s.cloud.floatingIps).filter((f) => canSee(c, f.tenant)).map((f) => ({ ...f })), q);
}

export function getApplicationPrefix(s: IpamState, c: Caller, q: IpamQuery<'appprefix.get'>): ApplicationPrefixView {
  return { ...visible(c, 'application prefix', q.id, s.cloud.appPrefixes[q.id]) };
}

export function listApplicationPrefixes(s: IpamState, c: Caller, q: IpamQuery<'appprefix.list'>): Page<ApplicationPrefixView> {
  return page(Object.values(s.cloud.appPrefixes).filter((a) => canSee(c, a.tenant)).map((a) => ({ ...a })), q);
}

export const routerView = (r: RouterEntry): RouterView => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  interfaces: Object.entries(r.interfaces)
    .map(([subnetId, networkId]) => ({ subnetId, networkId }))
    .sort((a, b) => (a.subnetId < b.subnetId ? -1 : 1)),
  routes: r.routes,
  description: r.description,
  revision: r.revision,
  createdAt: r.createdAt,
});

export function getRouter(s: IpamState, c: Caller, q: IpamQuery<'router.get'>): RouterView {
  return routerView(visible(c, 'router', q.id, s.routers[q.id]));
}

export function listRouters(s: IpamState, c: Caller, q: IpamQuery<'router.list'>): Page<RouterView> {
  return page(Object.values(s.routers).filter((r) => canSee(c, r.tenant)).map(routerView), q);
}
