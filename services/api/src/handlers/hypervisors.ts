import type { HypervisorView } from '@strata/contracts';
import type { Hypervisor, HypervisorServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toHypervisor(v: HypervisorView): Hypervisor {
  return { id: v.id, vtepIp: v.vtepIp, publicIp: v.publicIp, hostPoolId: v.hostPoolId, registeredAt: v.registeredAt };
}

/** Admin-managed: IPAM refuses tenant callers; the API only translates. */
export function hypervisorHandlers(deps: RpcDeps): HypervisorServiceHandlers {
  const { ipam } = deps;
  return {
    RegisterHypervisor: unary(deps, 'RegisterHypervisor', async (req, { meta }) => {
      const body = { id: req.id, vtepIp: req.vtepIp, hostPoolId: req.hostPoolId, publicIp: req.publicIp };
      return toHypervisor(await ipam.command('hypervisor.register', body, meta));
    }),
    GetHypervisor: unary(deps, 'GetHypervisor', async (req, { meta }) =>
      toHypervisor(await ipam.query('hypervisor.get', { id: req.id }, meta)),
    ),
    ListHypervisors: unary(deps, 'ListHypervisors', async (req, { meta }) => {
      const page = await ipam.query('hypervisor.list', paging(req), meta);
      return { items: page.items.map(toHypervisor), next: page.next };
    }),
    DeregisterHypervisor: unary(deps, 'DeregisterHypervisor', (req, { meta }) =>
      ipam.command('hypervisor.deregister', { id: req.id }, meta),
    ),
  };
}
