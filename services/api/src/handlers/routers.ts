import type { RouterView } from '@strata/contracts';
import type { Router, RouterServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toRouter(v: RouterView): Router {
  return { id: v.id, tenant: v.tenant, name: v.name, interfaces: v.interfaces, createdAt: v.createdAt, description: v.description, routes: v.routes, revision: v.revision };
}

export function routerHandlers(deps: RpcDeps): RouterServiceHandlers {
  const { ipam } = deps;
  return {
    CreateRouter: unary(deps, 'CreateRouter', async (req, { meta }) =>
      toRouter(await ipam.command('router.create', { tenant: req.tenant, name: req.name, description: req.description, routes: req.routes }, meta)),
    ),
    // routes is a message: absent, unchanged; present (even empty), the new list. The tenant goes on for IPAM to refuse by name.
    UpdateRouter: unary(deps, 'UpdateRouter', async (req, { meta }) => {
      const { id, expectedRevision, name, description, tenant } = req;
      return toRouter(await ipam.command('router.update', { id, expectedRevision, name, description, routes: req.routes?.routes, tenant }, meta));
    }),
    GetRouter: unary(deps, 'GetRouter', async (req, { meta }) => toRouter(await ipam.query('router.get', { id: req.id }, meta))),
    ListRouters: unary(deps, 'ListRouters', async (req, { meta }) => {
      const page = await ipam.query('router.list', paging(req), meta);
      return { items: page.items.map(toRouter), next: page.next };
    }),
    DeleteRouter: unary(deps, 'DeleteRouter', (req, { meta }) => ipam.command('router.delete', { id: req.id }, meta)),
    AddRouterInterface: unary(deps, 'AddRouterInterface', async (req, { meta }) =>
      toRouter(await ipam.command('router.addInterface', { id: req.id, subnetId: req.subnetId }, meta)),
    ),
    RemoveRouterInterface: unary(deps, 'RemoveRouterInterface', async (req, { meta }) =>
      toRouter(await ipam.command('router.removeInterface', { id: req.id, subnetId: req.subnetId }, meta)),
    ),
  };
}
