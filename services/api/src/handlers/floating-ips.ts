import type { FloatingIpView } from '@strata/contracts';
import type { FloatingIp, FloatingIpServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toFloatingIp(v: FloatingIpView): FloatingIp {
  return { id: v.id, tenant: v.tenant, poolId: v.poolId, address: v.address, createdAt: v.createdAt };
}

export function floatingIpHandlers(deps: RpcDeps): FloatingIpServiceHandlers {
  const { ipam } = deps;
  return {
    CreateFloatingIp: unary(deps, 'CreateFloatingIp', async (req, { meta }) =>
      toFloatingIp(await ipam.command('floatingip.create', { tenant: req.tenant, poolId: req.poolId, address: req.address }, meta)),
    ),
    GetFloatingIp: unary(deps, 'GetFloatingIp', async (req, { meta }) =>
      toFloatingIp(await ipam.query('floatingip.get', { id: req.id }, meta)),
    ),
    ListFloatingIps: unary(deps, 'ListFloatingIps', async (req, { meta }) => {
      const page = await ipam.query('floatingip.list', paging(req), meta);
      return { items: page.items.map(toFloatingIp), next: page.next };
    }),
    DeleteFloatingIp: unary(deps, 'DeleteFloatingIp', (req, { meta }) => ipam.command('floatingip.delete', { id: req.id }, meta)),
  };
}
