/**
 * What a host's view is made of besides its own ports: the networks and
 * domains it realises, the groups its ports list and the remote groups
 * those groups' rules name. Kept per host between events; the key families
 * read them, and a change of the network needs sends the host to a full
 * recompute.
 */
import { classifierGroups } from './inputs/chaining.js';
import { groupIdsOf } from './inputs/secgroup.js';
import type { Change, Model } from './model.js';
import { domainNetworks, domainOf } from './topology.js';
import { peersOf } from './inputs/peering.js';

/** What a host needs of the network: the domains of its local ports' and routed gateway bindings' networks and the routers sharing a peering segment with them, every network of those domains, and the lone networks of its other gateway bindings. */
export interface NetworkNeeds {
  networks: Set<string>;
  domains: Set<string>;
}

/**
 * What a host needs of security groups: the groups its ports list, and the
 * remote groups named by the rules of those of them that exist or by the
 * classifiers of the chains on the routing domains it realises (their
 * members are set elements of the chain's steering rules). Neither set
 * asks whether a listed or named group exists (the values do: no sg key for
 * a missing group, no member of a missing group). So a group coming or going
 * changes `remotes` only on the hosts with ports listing it (`groups` of the
 * change reaches them), never on the hosts that merely name it: those see a
 * membership change (`members`) instead, one member key each.
 */
export interface SecurityNeeds {
  groups: Set<string>;
  remotes: Set<string>;
}

/** Everything a host's view is made of besides its own ports. */
export type HostNeeds = NetworkNeeds & SecurityNeeds;

export function hostNeeds(model: Model, hostId: string): HostNeeds {
  const net = hostNetworkNeeds(model, hostId);
  return { ...net, ...hostSecurityNeeds(model, hostId, net.domains) };
}

export function hostNetworkNeeds(model: Model, hostId: string): NetworkNeeds {
  const { ipam } = model;
  const domains = new Set<string>();
  for (const portId of ipam.hostPorts.get(hostId) ?? []) {
    const port = ipam.ports.get(portId);
    if (port) domains.add(domainOf(ipam, port.networkId));
  }
  const networks = new Set<string>();
  // A gateway binding: the routing domain of its network when that is a router (a gateway host routes for
  // the physical side: Direct Connect); a lone network's binding is L2 only (its bridge and VXLAN, no
  // namespace), so 1,000 bindings of lone networks are 1,000 bridges, not 1,000 namespaces.
  for (const bindingId of ipam.hostBindings.get(hostId) ?? []) {
    const b = ipam.gatewayBindings.get(bindingId);
    if (!b || !ipam.networks.has(b.networkId)) continue;
    const domain = domainOf(ipam, b.networkId);
    if (ipam.routers.has(domain)) domains.add(domain);
    else networks.add(b.networkId);
  }
  // The routers that share a peering segment with one of them (one hop: a peer's peers are not routed to).
  for (const d of [...domains]) for (const p of peersOf(ipam, d)) domains.add(p);
  for (const d of domains) for (const n of domainNetworks(ipam, d)) networks.add(n);
  return { networks, domains };
}

export function hostSecurityNeeds(model: Model, hostId: string, domains: ReadonlySet<string>): SecurityNeeds {
  const groups = new Set<string>();
  for (const portId of model.ipam.hostPorts.get(hostId) ?? []) for (const g of groupIdsOf(model.secgroup, portId)) groups.add(g);
  const remotes = new Set<string>();
  for (const g of groups) {
    for (const rule of model.secgroup.groups.get(g)?.rules.values() ?? []) if (rule.remoteGroupId !== null) remotes.add(rule.remoteGroupId);
  }
  const { chaining } = model;
  for (const d of domains) {
    for (const chainId of chaining.routerChains.get(d) ?? []) {
      for (const c of chaining.chains.get(chainId)?.classifierIds ?? []) {
        const classifier = chaining.classifiers.get(c);
        if (classifier) for (const g of classifierGroups(classifier)) remotes.add(g);
      }
    }
  }
  return { groups, remotes };
}

/**
 * A host's network needs follow from its own ports and the domain structure.
 * A change that moves none of its ports and touches no network or domain
 * (the busy path: ports coming and going on other hosts) cannot alter them.
 */
export function networkNeedsMayChange(hostId: string, change: Change): boolean {
  if (change.ipam.networks.size > 0 || change.ipam.domains.size > 0) return true;
  return movesPortOf(hostId, change);
}

/**
 * Its security needs follow from the groups its ports list and those
 * groups' rules: only a port of its own (created, deleted, moved, its groups
 * set) or a group's rules or existence can alter them. A membership change
 * elsewhere (the busy path) cannot.
 */
export function securityNeedsMayChange(model: Model, hostId: string, change: Change): boolean {
  if (change.secgroup.groups.size > 0 || change.chaining.chains.size > 0) return true;
  for (const portId of change.secgroup.ports) if (model.ipam.ports.get(portId)?.hostId === hostId) return true;
  return movesPortOf(hostId, change);
}

function movesPortOf(hostId: string, change: Change): boolean {
  for (const { before, after } of change.ipam.ports.values()) if (before?.hostId === hostId || after?.hostId === hostId) return true;
  for (const { before, after } of change.ipam.bindings.values()) if (before?.hostId === hostId || after?.hostId === hostId) return true;
  return false;
}
