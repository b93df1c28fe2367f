/**
 * The networks, subnets and ports resources and the Neutron extensions they
 * implement (each alias here works as Neutron documents it; nothing is
 * declared that is refused or ignored). The core declares its own
 * (pagination, sorting, filter-validation, project-id, revision-if-match).
 */
import type { ExtensionDescriptor, ResourceDefinition } from '../resource.js';
import { networksResource, type NetworkSource } from './networks.js';
import { portsResource } from './ports.js';
import { subnetsResource } from './subnets.js';

const ext = (alias: string, name: string, description: string, updated: string): ExtensionDescriptor => ({ alias, name, description, updated });

/** The networks' extensions (the standard attributes of subnets and ports ride on the same aliases). */
export const NETWORK_EXTENSIONS: readonly ExtensionDescriptor[] = [
  ext('net-mtu', 'Network MTU', "Provides the network's MTU (mtu).", '2015-03-25T10:00:00-00:00'),
  ext('net-mtu-writable', 'Network MTU (writable)', "Allows setting a network's MTU on create and update.", '2017-07-12T00:00:00-00:00'),
  ext('external-net', 'Neutron external network', 'Adds the router:external attribute to networks (external networks are the floating-IP pools).', '2013-01-14T10:00:00-00:00'),
  ext('port-security', 'Port Security', 'Provides port_security_enabled on networks (the default of their new ports) and ports.', '2012-07-23T10:00:00-00:00'),
  ext('standard-attr-description', 'standard-attr-description', 'Adds a description to networks, subnets and ports.', '2016-02-10T10:00:00-00:00'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'Adds revision_number to networks, subnets and ports.', '2016-04-11T10:00:00-00:00'),
  ext('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at to networks, subnets and ports.', '2016-09-12T10:00:00-00:00'),
];

export const PORT_EXTENSIONS: readonly ExtensionDescriptor[] = [
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs on ports.', '2013-07-23T10:00:00-00:00'),
  ext('binding', 'Port Binding', 'Exposes the host a port is bound to (binding:host_id, set by an admin) and how (binding:vif_type tap).', '2014-02-03T10:00:00-00:00'),
];

/** `networkSources`: networks that are not IPAM's (the routers module's external networks), listed after IPAM's. */
export function netResources(networkSources: readonly NetworkSource[] = []): ResourceDefinition[] {
  return [
    { ...networksResource(networkSources), extensions: NETWORK_EXTENSIONS },
    subnetsResource(),
    { ...portsResource(), extensions: PORT_EXTENSIONS },
  ];
}

export { networksResource, portsResource, subnetsResource, type NetworkSource };
