/**
 * The inputs of the per-host derivation, as an in-memory model folded from
 * IPAM's events: hypervisors, networks, subnets, ports and routers, with the
 * indexes the derivation needs (ports per host, ports per host per network).
 *
 * `applyEvent` mutates the model (it holds every port of the cloud; copying
 * it per event would dominate) and returns a ChangeSet naming what changed,
 * which `affectedHosts` turns into the hosts to recompute.
 *
 * The model is total: an event that refers to something the model does not
 * hold (IPAM never writes one, but a model must not crash on a log it did
 * not expect) changes nothing, and one that re-creates an existing id
 * replaces it. Every rule here is deterministic, so an incrementally
 * maintained model equals one built by replaying the same events.
 */
import type { IpamEvent } from '@strata/contracts';

export interface HypervisorRec {
  id: string;
  vtepIp: string;
  publicIp: string;
}

export interface SubnetRec {
  id: string;
  networkId: string;
  ipVersion: 4 | 6;
  cidr: string;
  gatewayIp: string | null;
  enableDhcp: boolean;
  /** Router this subnet is joined to, or null. */
  routerId: string | null;
}

export interface FixedIpRec {
  subnetId: string;
  ip: string;
}

export interface PortRec {
  id: string;
  networkId: string;
  tenant: string;
  mac: string;
  fixedIps: FixedIpRec[];
  /** Host the port is bound to, or null (unbound). */
  hostId: string | null;
}

export interface NetworkRec {
  id: string;
  tenant: string;
  vni: number;
  mtu: number;
  subnets: Set<string>;
  ports: Set<string>;
  /** hostId → this network's ports bound there: who floods to whom, whose endpoints to publish. */
  hostPorts: Map<string, Set<string>>;
}

export interface RouterRec {
  id: string;
  tenant: string;
  name: string;
  /** subnetId → networkId of every joined subnet. */
  interfaces: Map<string, string>;
}

export interface Model {
  /** Last stream sequence applied. */
  seq: number;
  hypervisors: Map<string, HypervisorRec>;
  networks: Map<string, NetworkRec>;
  subnets: Map<string, SubnetRec>;
  ports: Map<string, PortRec>;
  routers: Map<string, RouterRec>;
  /** hostId → every port bound to that host (whether or not the host is registered). */
  hostPorts: Map<string, Set<string>>;
}

export function emptyModel(): Model {
  return {
    seq: 0,
    hypervisors: new Map(),
    networks: new Map(),
    subnets: new Map(),
    ports: new Map(),
    routers: new Map(),
    hostPorts: new Map(),
  };
}

/** Where a port was or is: its network and host (null host: unbound). */
export interface PortPlace {
  networkId: string;
  hostId: string | null;
}

/** What one event changed, in the terms the derivation depends on. */
export interface ChangeSet {
  /** Hypervisors registered or deregistered (their VTEP, H-IP, or their existence changed). */
  hosts: Set<string>;
  /** Ports created, bound, moved or deleted: where each was before and is after (null: did not / does not exist). */
  ports: Map<string, { before: PortPlace | null; after: PortPlace | null }>;
  /** Networks whose record, subnets or routing domain changed, or that were created or deleted. */
  networks: Set<string>;
  /**
   * Routing domains (router ids or lone network ids) whose RoutingDomain value can have changed: their
   * record (tenant), or their member networks (a network created, deleted, joined or left). Includes the
   * domain a network left and the one it joined.
   */
  domains: Set<string>;
}

export function emptyChange(): ChangeSet {
  return { hosts: new Set(), ports: new Map(), networks: new Set(), domains: new Set() };
}

export const isEmptyChange = (c: ChangeSet): boolean =>
  c.hosts.size === 0 && c.ports.size === 0 && c.networks.size === 0 && c.domains.size === 0;

/** The slice of a decoded IPAM event the model reads: type and data, aggregate, tenant and position. */
export type ModelEvent = {
  [K in IpamEvent['type']]: { type: K; data: Extract<IpamEvent, { type: K }>['data'] } & Pick<IpamEvent, 'aggregate' | 'tenant' | 'seq'>;
}[IpamEvent['type']];

/** Fold one event into the model; returns what changed. */
export function applyEvent(model: Model, event: ModelEvent): ChangeSet {
  model.seq = event.seq;
  const change = emptyChange();
  switch (event.type) {
    case 'ipam.HypervisorRegistered': {
      const d = event.data;
      model.hypervisors.set(d.hostId, { id: d.hostId, vtepIp: d.vtepIp, publicIp: d.publicIp });
      change.hosts.add(d.hostId);
      break;
    }
    case 'ipam.HypervisorDeregistered':
      if (model.hypervisors.delete(event.data.hostId)) change.hosts.add(event.data.hostId);
      break;
    case 'ipam.NetworkCreated': {
      const d = event.data;
      const existing = model.networks.get(d.networkId);
      if (existing) {
        existing.tenant = event.tenant;
        existing.vni = d.vni;
        existing.mtu = d.mtu;
      } else {
        model.networks.set(d.networkId, {
          id: d.networkId,
          tenant: event.tenant,
          vni: d.vni,
          mtu: d.mtu,
          subnets: new Set(),
          ports: new Set(),
          hostPorts: new Map(),
        });
      }
      change.networks.add(d.networkId);
      change.domains.add(domainOf(model, d.networkId));
      break;
    }
    case 'ipam.NetworkDeleted':
      deleteNetwork(model, event.data.networkId, change);
      break;
    case 'ipam.SubnetCreated': {
      const d = event.data;
      const networkId = event.aggregate.id;
      if (!model.networks.has(networkId)) break;
      if (model.subnets.has(d.subnetId)) deleteSubnet(model, d.subnetId, change);
      model.subnets.set(d.subnetId, {
        id: d.subnetId,
        networkId,
        ipVersion: d.ipVersion,
        cidr: d.cidr,
        gatewayIp: d.gatewayIp,
        enableDhcp: d.enableDhcp,
        routerId: null,
      });
      model.networks.get(networkId)!.subnets.add(d.subnetId);
      change.networks.add(networkId);
      break;
    }
    case 'ipam.SubnetDeleted':
      deleteSubnet(model, event.data.subnetId, change);
      break;
    case 'ipam.PortCreated': {
      const d = event.data;
      const networkId = event.aggregate.id;
      const network = model.networks.get(networkId);
      if (!network) break;
      const before = removePort(model, d.portId);
      const port: PortRec = { id: d.portId, networkId, tenant: event.tenant, mac: d.mac, fixedIps: d.fixedIps, hostId: d.hostId };
      model.ports.set(port.id, port);
      network.ports.add(port.id);
      if (port.hostId !== null) indexPort(model, port, port.hostId);
      change.ports.set(port.id, { before, after: { networkId, hostId: port.hostId } });
      break;
    }
    case 'ipam.PortBound': {
      const port = model.ports.get(event.data.portId);
      if (!port || port.hostId === event.data.hostId) break;
      const before: PortPlace = { networkId: port.networkId, hostId: port.hostId };
      if (port.hostId !== null) unindexPort(model, port, port.hostId);
      port.hostId = event.data.hostId;
      if (port.hostId !== null) indexPort(model, port, port.hostId);
      change.ports.set(port.id, { before, after: { networkId: port.networkId, hostId: port.hostId } });
      break;
    }
    case 'ipam.PortDeleted': {
      const before = removePort(model, event.data.portId);
      if (before) change.ports.set(event.data.portId, { before, after: null });
      break;
    }
    case 'ipam.RouterCreated': {
      const d = event.data;
      const existing = model.routers.get(d.routerId);
      if (existing) {
        existing.tenant = event.tenant;
        existing.name = d.name;
      } else {
        model.routers.set(d.routerId, { id: d.routerId, tenant: event.tenant, name: d.name, interfaces: new Map() });
      }
      change.domains.add(d.routerId);
      break;
    }
    case 'ipam.RouterInterfaceAdded': {
      const router = model.routers.get(event.data.routerId);
      const subnet = model.subnets.get(event.data.subnetId);
      // The subnet's own network is the truth; the event's networkId only repeats it.
      if (!router || !subnet || subnet.routerId === router.id) break;
      const networkId = subnet.networkId;
      change.domains.add(domainOf(model, networkId));
      if (subnet.routerId !== null) detach(model, subnet, change);
      subnet.routerId = router.id;
      router.interfaces.set(subnet.id, networkId);
      change.networks.add(networkId);
      change.domains.add(router.id);
      change.domains.add(domainOf(model, networkId));
      break;
    }
    case 'ipam.RouterInterfaceRemoved': {
      const subnet = model.subnets.get(event.data.subnetId);
      if (!subnet || subnet.routerId !== event.data.routerId) break;
      detach(model, subnet, change);
      break;
    }
    case 'ipam.RouterDeleted': {
      const router = model.routers.get(event.data.routerId);
      if (!router) break;
      for (const subnetId of [...router.interfaces.keys()]) detach(model, model.subnets.get(subnetId)!, change);
      model.routers.delete(router.id);
      change.domains.add(router.id);
      break;
    }
    // Nothing on a hypervisor depends on these (yet): public pools, floating IPs and application
    // prefixes are realised by the NAT and BGP services; a closed network is still realised.
    case 'ipam.NetworkClosed':
    case 'ipam.PoolCreated':
    case 'ipam.PoolDeleted':
    case 'ipam.FloatingIpAllocated':
    case 'ipam.FloatingIpReleased':
    case 'ipam.ApplicationPrefixAllocated':
    case 'ipam.ApplicationPrefixReleased':
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know IPAM event ${(unreachable as { type: string }).type}`);
    }
  }
  return change;
}

function deleteNetwork(model: Model, networkId: string, change: ChangeSet): void {
  const network = model.networks.get(networkId);
  if (!network) return;
  change.domains.add(domainOf(model, networkId));
  for (const portId of [...network.ports]) {
    const before = removePort(model, portId);
    if (before) change.ports.set(portId, { before, after: null });
  }
  for (const subnetId of [...network.subnets]) deleteSubnet(model, subnetId, change);
  model.networks.delete(networkId);
  change.networks.add(networkId);
}

function deleteSubnet(model: Model, subnetId: string, change: ChangeSet): void {
  const subnet = model.subnets.get(subnetId);
  if (!subnet) return;
  if (subnet.routerId !== null) detach(model, subnet, change);
  model.subnets.delete(subnetId);
  model.networks.get(subnet.networkId)?.subnets.delete(subnetId);
  change.networks.add(subnet.networkId);
}

/** Remove a subnet's router interface; records the domains it leaves and joins. */
function detach(model: Model, subnet: SubnetRec, change: ChangeSet): void {
  const routerId = subnet.routerId;
  if (routerId === null) return;
  change.domains.add(domainOf(model, subnet.networkId));
  model.routers.get(routerId)?.interfaces.delete(subnet.id);
  subnet.routerId = null;
  change.domains.add(routerId);
  change.domains.add(domainOf(model, subnet.networkId));
  change.networks.add(subnet.networkId);
}

function removePort(model: Model, portId: string): PortPlace | null {
  const port = model.ports.get(portId);
  if (!port) return null;
  if (port.hostId !== null) unindexPort(model, port, port.hostId);
  model.networks.get(port.networkId)?.ports.delete(portId);
  model.ports.delete(portId);
  return { networkId: port.networkId, hostId: port.hostId };
}

function indexPort(model: Model, port: PortRec, hostId: string): void {
  addTo(model.hostPorts, hostId, port.id);
  const network = model.networks.get(port.networkId);
  if (network) addTo(network.hostPorts, hostId, port.id);
}

function unindexPort(model: Model, port: PortRec, hostId: string): void {
  removeFrom(model.hostPorts, hostId, port.id);
  const network = model.networks.get(port.networkId);
  if (network) removeFrom(network.hostPorts, hostId, port.id);
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

// ---- Routing domains ------------------------------------------------------

/**
 * The routing domain of a network: the router one of its subnets is joined
 * to, else the network itself. IPAM lets a network join one router only; if
 * a log ever said otherwise, the smallest router id wins, so every reader
 * still agrees.
 */
export function domainOf(model: Model, networkId: string): string {
  let best: string | undefined;
  for (const subnetId of model.networks.get(networkId)?.subnets ?? []) {
    const r = model.subnets.get(subnetId)?.routerId ?? null;
    if (r !== null && (best === undefined || r < best)) best = r;
  }
  return best ?? networkId;
}

/** The networks a routing domain joins (existing networks whose domain it is), sorted. */
export function domainNetworks(model: Model, domainId: string): string[] {
  const router = model.routers.get(domainId);
  if (router) {
    const ids = new Set<string>();
    for (const networkId of router.interfaces.values()) if (domainOf(model, networkId) === domainId) ids.add(networkId);
    return [...ids].sort();
  }
  return model.networks.has(domainId) && domainOf(model, domainId) === domainId ? [domainId] : [];
}

/** Registered hosts with at least one port on the network. */
export function hostsOnNetwork(model: Model, networkId: string): string[] {
  const network = model.networks.get(networkId);
  if (!network) return [];
  return [...network.hostPorts.keys()].filter((h) => model.hypervisors.has(h));
}

/** Registered hosts with a port on any network of the domain: the hosts that realise it. */
export function hostsOfDomain(model: Model, domainId: string): Set<string> {
  const hosts = new Set<string>();
  for (const networkId of domainNetworks(model, domainId)) for (const h of hostsOnNetwork(model, networkId)) hosts.add(h);
  return hosts;
}

/** Hosts that need a network: those with a local port in its routing domain. */
export function hostsNeeding(model: Model, networkId: string): Set<string> {
  return model.networks.has(networkId) ? hostsOfDomain(model, domainOf(model, networkId)) : new Set();
}

/** What a host needs: the domains of its local ports' networks, and every network of those domains. */
export interface HostNeeds {
  networks: Set<string>;
  domains: Set<string>;
}

export function hostNeeds(model: Model, hostId: string): HostNeeds {
  const domains = new Set<string>();
  for (const portId of model.hostPorts.get(hostId) ?? []) {
    const port = model.ports.get(portId);
    if (port) domains.add(domainOf(model, port.networkId));
  }
  const networks = new Set<string>();
  for (const d of domains) for (const n of domainNetworks(model, d)) networks.add(n);
  return { networks, domains };
}
