/** Routing domains and who realises them: read-only questions the key families ask of the IPAM node. */
import { domainOf, type IpamModel } from './inputs/ipam.js';
import { peersOf } from './inputs/peering.js';

export { domainOf };

/** The networks a routing domain joins (existing networks whose domain it is), sorted. */
export function domainNetworks(ipam: IpamModel, domainId: string): string[] {
  const router = ipam.routers.get(domainId);
  if (router) {
    const ids = new Set<string>();
    for (const networkId of router.interfaces.values()) if (domainOf(ipam, networkId) === domainId) ids.add(networkId);
    return [...ids].sort();
  }
  return ipam.networks.has(domainId) && domainOf(ipam, domainId) === domainId ? [domainId] : [];
}

/** Registered hosts with at least one port on the network, or a gateway binding of it (inputs/gateway.ts). */
export function hostsOnNetwork(ipam: IpamModel, networkId: string): string[] {
  const network = ipam.networks.get(networkId);
  if (!network) return [];
  const hosts = [...network.hostPorts.keys()].filter((h) => ipam.hypervisors.has(h));
  for (const h of ipam.networkGatewayHosts.get(networkId)?.keys() ?? []) if (!network.hostPorts.has(h) && ipam.hypervisors.has(h)) hosts.push(h);
  return hosts;
}

/**
 * Registered hosts with a port on any network of the domain, or of a router
 * that shares a peering segment with it: the hosts that realise it (a host
 * realises its routers' peers, inputs/peering.ts).
 */
export function hostsOfDomain(ipam: IpamModel, domainId: string): Set<string> {
  const hosts = new Set<string>();
  for (const d of [domainId, ...peersOf(ipam, domainId)]) {
    for (const networkId of domainNetworks(ipam, d)) for (const h of hostsOnNetwork(ipam, networkId)) hosts.add(h);
  }
  return hosts;
}

/** Hosts that need a network: those with a local port in its routing domain. */
export function hostsNeeding(ipam: IpamModel, networkId: string): Set<string> {
  return ipam.networks.has(networkId) ? hostsOfDomain(ipam, domainOf(ipam, networkId)) : new Set();
}
