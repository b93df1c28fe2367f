/**
 * Tenant routers. A router is a routing domain: the subnets it joins must not
 * overlap, and routing between them is done on every host (distributed).
 * A network belongs to at most one router (all its attached subnets join the
 * same one), so every host agrees which domain a network is in.
 */
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '@strata/errors';
import { routerAggregate, type IpamCommand } from '@strata/contracts';
import { overlaps, parsePrefix } from '@strata/netaddr';
import { createdId, owningTenant, visible } from '@strata/service-kit';
import type { IpamState, RouterEntry, SubnetEntry } from '../state.js';
import type { CommandContext, Decision } from './types.js';

export function createRouter(state: IpamState, cmd: IpamCommand<'router.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'ipam', 'router');
  const existing = state.routers[id];
  if (existing) {
    if (existing.tenant === tenant) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`router ${id} already exists`);
  }
  return {
    kind: 'append',
    aggregate: routerAggregate(id),
    expectedVersion: 0,
    tenant,
    resourceId: id,
    event: { type: 'ipam.RouterCreated', data: { routerId: id, name: cmd.name } },
  };
}

export function deleteRouter(state: IpamState, cmd: IpamCommand<'router.delete'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  const count = Object.keys(router.interfaces).length;
  if (count > 0) throw new IllegalStateError(`router ${cmd.id} still joins ${count} subnet(s); remove its interfaces first`);
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
  return routerEvent(router, { type: 'ipam.RouterInterfaceAdded', data: { routerId: router.id, subnetId: subnet.id, networkId: subnet.networkId } });
}

export function removeRouterInterface(state: IpamState, cmd: IpamCommand<'router.removeInterface'>, ctx: CommandContext): Decision {
  const router = visible(ctx.caller, 'router', cmd.id, state.routers[cmd.id]);
  const networkId = router.interfaces[cmd.subnetId];
  if (networkId === undefined) throw new NotFoundError(`interface of router ${router.id} on subnet`, cmd.subnetId);
  return routerEvent(router, { type: 'ipam.RouterInterfaceRemoved', data: { routerId: router.id, subnetId: cmd.subnetId, networkId } });
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
