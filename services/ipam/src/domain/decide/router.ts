/**
 * Tenant routers. A router is a routing domain: the subnets it joins must not
 * overlap, and routing between them is done on every host (distributed).
 * A network belongs to at most one router (all its attached subnets join the
 * same one), so every host agrees which domain a network is in.
 */
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '@strata/errors';
import { routerAggregate, type IpamCommand, type Route } from '@strata/contracts';
import { contains, overlaps, parseAddress, parsePrefix } from '@strata/netaddr';
import { createdId, owningTenant, visible } from '@strata/service-kit';
import type { IpamState, RouterEntry, SubnetEntry } from '../state.js';
import { peeringOf } from '../state.js';
import { routerPrefixes } from '../peering-prefixes.js';
import { attachmentsOf, attachmentsOfRouter } from './peering.js';
import { changedFields, isEmpty, requireRevision } from './shared.js';
import type { CommandContext, Decision } from './types.js';

export function createRouter(state: IpamState, cmd: IpamCommand<'router.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'ipam', 'router');
  const existing = state.routers[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`router ${id} already exists`);
  }
  // A new router joins no subnet yet, so every route is refused here with the reason (routes come with `router.update`).
  checkRoutes(state, { id, interfaces: {} }, cmd.routes);
  return {
    kind: 'append',
    aggregate: routerAggregate(id),
    expectedVersion: 0,
    tenant,
    resourceId: id,
    event: {
      type: 'ipam.RouterCreated',
      data: { routerId: id, name: cmd.name, ...(cmd.description ? { description: cmd.description } : {}), ...(cmd.routes.length ? { routes: cmd.routes } : {}) },
    },
  };
}

/** Name, description and extra routes change; the tenant is refused by the request schema. */
export function updateRouter(state: IpamState, cmd: IpamCommand<'router.update'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  requireRevision('router', cmd.id, router.revision, cmd.expectedRevision);
  if (cmd.routes !== undefined) checkRoutes(state, router, cmd.routes);
  const changed = changedFields(router, cmd, ['name', 'description', 'routes']);
  if (isEmpty(changed)) return { kind: 'done', resourceId: router.id };
  return routerEvent(router, { type: 'ipam.RouterUpdated', data: { routerId: router.id, ...changed } });
}

/**
 * Extra routes (Neutron's extraroute): one per destination and nexthop,
 * each nexthop an address inside one of the subnets the router joins (the
 * router reaches it directly) and not the router's own interface there.
 */
function checkRoutes(state: IpamState, router: Pick<RouterEntry, 'id' | 'interfaces'>, routes: readonly Route[]): void {
  const subnets = Object.entries(router.interfaces).flatMap(([subnetId, networkId]) => state.networks[networkId]?.subnets[subnetId] ?? []);
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    const field = `routes.${i}`;
    const k = `${r.destination} ${r.nexthop}`;
    if (seen.has(k)) throw new ValidationError(`route to ${r.destination} via ${r.nexthop} is given twice`, { field });
    seen.add(k);
    const hop = parseAddress(r.nexthop);
    if (parsePrefix(r.destination).version !== hop.version) {
      throw new ValidationError(`route to ${r.destination}: nexthop ${r.nexthop} is of the other IP version`, { field: `${field}.nexthop` });
    }
    const via = subnets.find((s) => contains(parsePrefix(s.cidr), hop));
    if (!via) {
      const joined = subnets.length ? subnets.map((s) => s.cidr).join(', ') : 'none yet';
      throw new ValidationError(`route to ${r.destination}: nexthop ${r.nexthop} is in none of router ${router.id}'s subnets (${joined})`, { field: `${field}.nexthop` });
    }
    if (via.gatewayIp === r.nexthop) {
      throw new ValidationError(`route to ${r.destination}: nexthop ${r.nexthop} is the router's own interface on subnet ${via.id}`, { field: `${field}.nexthop` });
    }
  });
}

export function deleteRouter(state: IpamState, cmd: IpamCommand<'router.delete'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  const count = Object.keys(router.interfaces).length;
  if (count > 0) throw new IllegalStateError(`router ${cmd.id} still joins ${count} subnet(s); remove its interfaces first`);
  const peerings = attachmentsOfRouter(state, router.id).length;
  if (peerings > 0) throw new IllegalStateError(`router ${cmd.id} is still attached to ${peerings} peering segment(s); detach it first`);
  return routerEvent(router, { type: 'ipam.RouterDeleted', data: { routerId: router.id } });
}

export function addRouterInterface(state: IpamState, cmd: IpamCommand<'router.addInterface'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  const subnet = findSubnet(state, cmd.subnetId);
  // A router joins only its own tenant's subnets; another tenant's subnet is "not found" as everywhere else.
  if (subnet.tenant !== router.tenant) throw new NotFoundError('subnet', cmd.subnetId);
  const attachedTo = state.subnetRouter[subnet.id];
  if (attachedTo === router.id) return { kind: 'done', resourceId: router.id };
  if (attachedTo !== undefined) throw new AlreadyExistsError(`subnet ${subnet.id} is already joined to router ${attachedTo}`, { field: 'subnetId' });
  if (subnet.gatewayIp === null) {
    throw new IllegalStateError(`subnet ${subnet.id} has no gateway address; a router interface needs one`, { field: 'subnetId' });
  }
  const otherRouter = Object.keys(state.networks[subnet.networkId]?.subnets ?? {})
    .map((id) => state.subnetRouter[id])
    .find((r) => r !== undefined && r !== router.id);
  if (otherRouter !== undefined) {
    throw new IllegalStateError(`network ${subnet.networkId} already has a subnet joined to router ${otherRouter}; a network joins one router`);
  }
  const prefix = parsePrefix(subnet.cidr);
  for (const [otherId, networkId] of Object.entries(router.interfaces)) {
    const other = state.networks[networkId]?.subnets[otherId];
    if (other && overlaps(prefix, parsePrefix(other.cidr))) {
      throw new ValidationError(`subnet ${subnet.id} (${subnet.cidr}) overlaps subnet ${other.id} (${other.cidr}) already on router ${router.id}`, {
        field: 'subnetId',
      });
    }
  }
  requirePeeringRoom(state, router.id, subnet);
  return routerEvent(router, { type: 'ipam.RouterInterfaceAdded', data: { routerId: router.id, subnetId: subnet.id, networkId: subnet.networkId } });
}

export function removeRouterInterface(state: IpamState, cmd: IpamCommand<'router.removeInterface'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  const networkId = router.interfaces[cmd.subnetId];
  if (networkId === undefined) throw new NotFoundError(`interface of router ${router.id} on subnet`, cmd.subnetId);
  const subnet = state.networks[networkId]?.subnets[cmd.subnetId];
  const used = subnet && router.routes.find((r) => contains(parsePrefix(subnet.cidr), parseAddress(r.nexthop)));
  if (used) {
    throw new IllegalStateError(`route to ${used.destination} of router ${router.id} goes via ${used.nexthop} on subnet ${cmd.subnetId}; change the router's routes first`, {
      field: 'subnetId',
    });
  }
  return routerEvent(router, { type: 'ipam.RouterInterfaceRemoved', data: { routerId: router.id, subnetId: cmd.subnetId, networkId } });
}

/**
 * A router on peering segments takes no subnet that overlaps a transit
 * subnet or a peer's prefix there (docs/architecture.md, "VPC peering"): its
 * peers' routes would be ambiguous. A peer of another tenant is named by its
 * transit address only.
 */
function requirePeeringRoom(state: IpamState, routerId: string, subnet: SubnetEntry): void {
  const prefix = parsePrefix(subnet.cidr);
  for (const a of attachmentsOfRouter(state, routerId)) {
    const seg = peeringOf(state).segments[a.segmentId];
    if (!seg) continue;
    if (overlaps(prefix, parsePrefix(seg.cidr))) {
      throw new ValidationError(`subnet ${subnet.id} (${subnet.cidr}) overlaps transit subnet ${seg.cidr} of peering segment ${seg.id}, which router ${routerId} is on`, { field: 'subnetId' });
    }
    for (const peer of attachmentsOf(state, seg.id).filter((p) => p.routerId !== routerId)) {
      const clash = routerPrefixes(state, peer.routerId).find((p) => overlaps(prefix, parsePrefix(p)));
      if (clash === undefined) continue;
      const who = peer.tenant === state.routers[routerId]?.tenant ? `router ${peer.routerId}` : `the router at ${peer.ip}`;
      throw new ValidationError(`subnet ${subnet.id} (${subnet.cidr}) overlaps prefix ${clash} of ${who} on peering segment ${seg.id}: peers must not overlap`, { field: 'subnetId' });
    }
  }
}

function routerEvent(router: RouterEntry, event: Extract<Decision, { kind: 'append' }>['event']): Decision {
  return { kind: 'append', aggregate: routerAggregate(router.id), expectedVersion: router.version, tenant: router.tenant, resourceId: router.id, event };
}

function findSubnet(state: IpamState, id: string): SubnetEntry {
  const networkId = state.subnetNetwork[id];
  const subnet = networkId === undefined ? undefined : state.networks[networkId]?.subnets[id];
  if (!subnet) throw new NotFoundError('subnet', id);
  return subnet;
}
