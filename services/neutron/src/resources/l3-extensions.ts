/**
 * The API extensions the L3 modules (routers, floating IPs, external
 * networks) implement, declared on both their definitions. Each is
 * declared because what it defines works (docs/architecture.md, "The
 * Neutron API"); `ext-gw-mode` (choosing enable_snat), `l3-ha`, `dvr`,
 * `router_availability_zone`, `fip-port-details`, `l3-flavors` are not.
 */
import type { ExtensionDescriptor } from '../resource.js';

export const L3_EXTENSIONS: readonly ExtensionDescriptor[] = [
  {
    alias: 'router',
    name: 'Neutron L3 Router',
    description: 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
    updated: '2012-07-20T10:00:00-00:00',
  },
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.', updated: '2013-01-14T10:00:00-00:00' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router', updated: '2013-02-01T10:00:00-00:00' },
  {
    alias: 'extraroute-atomic',
    name: 'Atomically add/remove extra routes',
    description: 'Edit extra routes of a router on server side by atomically adding/removing extra routes',
    updated: '2019-07-10T00:00:00-00:00',
  },
];
