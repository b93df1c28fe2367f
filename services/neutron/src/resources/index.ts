/**
 * The resource modules the Neutron service serves, in the order their
 * extensions are listed. Each module (networks, subnets, ports, security
 * groups, routers, floating IPs, networking-sfc) adds its definitions here.
 */
import type { ResourceDefinition } from '../resource.js';
import { externalNetworks, showExternalNetwork } from './external-networks.js';
import { floatingips } from './floatingips.js';
import { netResources } from './net.js';
import { routers } from './routers.js';
import { securityGroupResources } from './security-groups/index.js';
import { SFC_RESOURCES } from './sfc/index.js';

export const NEUTRON_RESOURCES: readonly ResourceDefinition[] = [...netResources([{ list: (ctx) => externalNetworks(ctx), show: showExternalNetwork }]), ...securityGroupResources, routers, floatingips, ...SFC_RESOURCES];
