import type { FloatingIpAssociationView, RouterGatewayView } from '@strata/contracts';
import { ValidationError } from '@strata/errors';
import type { FloatingIpAssociation, NatServiceHandlers, RouterGateway, SetRouterGatewayRequest__Output } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toFloatingIpAssociation(v: FloatingIpAssociationView): FloatingIpAssociation {
  return {
    floatingIpId: v.floatingIpId,
    tenant: v.tenant,
    address: v.address,
    // null (not associated / not bound) is expressed by leaving the optional field unset.
    portId: v.portId ?? undefined,
    fixedIp: v.fixedIp ?? undefined,
    networkId: v.networkId ?? undefined,
    hostId: v.hostId ?? undefined,
  };
}

export const toRouterGateway = (v: RouterGatewayView): RouterGateway => ({ routerId: v.routerId, tenant: v.tenant, externalGateway: v.externalGateway });

/** proto3 would read an unset bool as false: turning the gateway off must be asked for. */
function enabledOf(req: SetRouterGatewayRequest__Output): boolean {
  if (req.enabled === undefined) throw new ValidationError('enabled: required, true or false', { field: 'enabled' });
  return req.enabled;
}

/** Forwarded to the nat service, which enforces tenancy (another tenant's floating IP, port or router is NOT_FOUND). */
export function natHandlers(deps: RpcDeps): NatServiceHandlers {
  const { nat } = deps;
  return {
    AssociateFloatingIp: unary(deps, 'AssociateFloatingIp', async (req, { meta }) =>
      toFloatingIpAssociation(await nat.command('floatingip.associate', { floatingIpId: req.floatingIpId, portId: req.portId, fixedIp: req.fixedIp }, meta)),
    ),
    DisassociateFloatingIp: unary(deps, 'DisassociateFloatingIp', async (req, { meta }) =>
      toFloatingIpAssociation(await nat.command('floatingip.disassociate', { floatingIpId: req.floatingIpId }, meta)),
    ),
    GetFloatingIpAssociation: unary(deps, 'GetFloatingIpAssociation', async (req, { meta }) =>
      toFloatingIpAssociation(await nat.query('floatingip.get', { id: req.floatingIpId }, meta)),
    ),
    ListFloatingIpAssociations: unary(deps, 'ListFloatingIpAssociations', async (req, { meta }) => {
      const page = await nat.query('floatingip.list', { ...paging(req), portId: req.portId }, meta);
      return { items: page.items.map(toFloatingIpAssociation), next: page.next };
    }),
    SetRouterGateway: unary(deps, 'SetRouterGateway', async (req, { meta }) =>
      toRouterGateway(await nat.command('router.setGateway', { routerId: req.routerId, enabled: enabledOf(req) }, meta)),
    ),
    GetRouterGateway: unary(deps, 'GetRouterGateway', async (req, { meta }) => toRouterGateway(await nat.query('router.get', { id: req.routerId }, meta))),
  };
}
