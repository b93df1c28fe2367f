/**
 * The networks, subnets and ports resources and the Neutron extensions they
 * implement (each alias here works as Neutron documents it; nothing is
 * declared that is refused or ignored).
 */
import type { ResourceDefinition } from '../resource.js';
import { networksResource, type NetworkSource } from './networks.js';
import { portsResource } from './ports.js';
import { subnetsResource } from './subnets.js';

export interface ExtensionDescriptor {
  alias: string;
  name: string;
  description: string;
}

export const NET_EXTENSIONS: readonly ExtensionDescriptor[] = [
  { alias: 'net-mtu', name: 'Network MTU', description: "Provides the network's MTU (mtu)." },
  { alias: 'net-mtu-writable', name: 'Network MTU (writable)', description: "Allows setting a network's MTU on create and update." },
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds the router:external attribute to networks (external networks are the floating-IP pools).' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port_security_enabled on networks (the default of their new ports) and ports.' },
  { alias: 'allowed-address-pairs', name: 'Allowed Address Pairs', description: 'Provides allowed address pairs on ports.' },
  { alias: 'binding', name: 'Port Binding', description: 'Exposes the host a port is bound to (binding:host_id) and how (binding:vif_type tap).' },
  { alias: 'standard-attr-description', name: 'standard-attr-description', description: 'Adds a description to networks, subnets and ports.' },
  { alias: 'standard-attr-revisions', name: 'Resource revision numbers', description: 'Adds revision_number to networks, subnets and ports.' },
  { alias: 'standard-attr-timestamp', name: 'Resource timestamps', description: 'Adds created_at and updated_at to networks, subnets and ports.' },
  { alias: 'project-id', name: 'project_id field enabled', description: 'Resources show project_id beside tenant_id.' },
];

/** `networkSources`: networks that are not IPAM's (the routers module's external networks), listed after IPAM's. */
export function netResources(networkSources: readonly NetworkSource[] = []): ResourceDefinition[] {
  return [networksResource(networkSources), subnetsResource(), portsResource()];
}

export { networksResource, portsResource, subnetsResource, type NetworkSource };
