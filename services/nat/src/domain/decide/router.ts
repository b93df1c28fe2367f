/** A tenant router's external gateway: outbound access (PNAT to each hypervisor's H-IP) for its networks' ports. */
import { NotFoundError } from '@strata/errors';
import { routerGatewayAggregate, type NatCommand } from '@strata/contracts';
import { visible } from '@strata/service-kit';
import type { NatState, RouterEntry } from '../state.js';
import type { CommandContext, Decision } from './types.js';

export function findRouter(state: NatState, ctx: CommandContext, id: string): RouterEntry {
  const r = state.routers[id];
  return visible(ctx.caller, 'router', id, r?.live ? r : undefined);
}

export function setRouterGateway(state: NatState, cmd: NatCommand<'router.setGateway'>, ctx: CommandContext): Decision {
  const router = findRouter(state, ctx, cmd.routerId);
  // The external network a gateway is named after is an operator's floating-IP pool (pools are visible to every tenant).
  if (cmd.externalNetworkId !== undefined && state.floatingIpPools[cmd.externalNetworkId] === undefined) {
    throw new NotFoundError('pool', cmd.externalNetworkId);
  }
  return gatewayDecision(router, cmd.enabled, cmd.externalNetworkId);
}

/**
 * The event that brings the router's gateway to `enabled` (named after
 * `externalNetworkId`), or "done" when it is already so. An enabled gateway
 * named after another external network is enabled again with the new name.
 */
export function gatewayDecision(router: RouterEntry, enabled: boolean, externalNetworkId?: string): Decision {
  if (router.externalGateway === enabled && (!enabled || router.externalNetworkId === externalNetworkId)) return { kind: 'done', resourceId: router.id };
  return {
    kind: 'append',
    aggregate: routerGatewayAggregate(router.id),
    expectedVersion: router.version,
    tenant: router.tenant,
    resourceId: router.id,
    event: enabled
      ? { type: 'nat.ExternalGatewayEnabled', data: { routerId: router.id, ...(externalNetworkId !== undefined ? { externalNetworkId } : {}) } }
      : { type: 'nat.ExternalGatewayDisabled', data: { routerId: router.id } },
  };
}
