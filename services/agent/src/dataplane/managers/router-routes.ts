/**
 * A router's static routes (extraroute) in its domain namespaces
 * (core/router-routes.ts): routes in the shared kernel model, after the
 * overlay that made the namespaces and gateways. Registered before NAT, so
 * NAT's default route to the outside wins a clash on the same destination.
 */
import { desiredRouterRoutes } from '../../core/router-routes.js';
import type { Manager } from '../manager.js';

export const routerRoutes: Manager = {
  name: 'router-routes',
  desired: (view, ctx) => ({ kernel: desiredRouterRoutes(view, ctx.nsPrefix, ctx.kernel.namespaces) }),
};
