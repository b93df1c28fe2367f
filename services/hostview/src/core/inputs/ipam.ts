/**
 * The IPAM input node: hypervisors, networks, subnets, routers and ports
 * (the port lifecycle is the shared fold of @strata/contracts' `port-lifecycle`,
 * the one secgroup, nat and bgp-gateway follow too), with the indexes the key
 * families read (ports per host, per host per network, per device), folded
 * from IPAM's events. Returns what changed in the derivation's terms.
 *
 * Total: an event about something the model does not hold changes nothing;
 * one that re-creates an existing id replaces it.
 */
import {
  presentIpv6Modes,
  type Ipv6Mode,
  applyAddressPairsEvent,
  applyPortEvent,
  ownershipsEnded,
  removePort,
  type FollowedPort,
  type IpamEvent,
  type PairOwner,
  type PortTransition,
} from '@strata/contracts';
import { addTo, removeFrom } from '../indexes.js';
import { applyPeeringEvent, touchPeers, type PeeringAttachmentRec, type PeeringSegmentRec } from './peering.js';
import { applyGatewayEvent, touchNetworkBindings, type BindingMove, type GatewayBindingRec, type GatewayDeviceRec } from './gateway.js';
import type { Change, Slice } from '../model.js';

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
  /** DNS servers and host routes handed out by DHCP, in IPAM's order. */
  dnsNameservers: string[];
  hostRoutes: StaticRoute[];
  /** IPv6 modes as the event has them (left out when not set). */
  ipv6RaMode?: Ipv6Mode;
  ipv6AddressMode?: Ipv6Mode;
  /** Router this subnet is joined to, or null. */
  routerId: string | null;
}

export interface NetworkRec {
  id: string;
  tenant: string;
  vni: number;
  mtu: number;
  /** Routed (no NAT): its addresses are advertised to the fabric and enter through the hypervisors. */
  routed: boolean;
  subnets: Set<string>;
  ports: Set<string>;
  /** hostId → this network's ports bound there: who floods to whom, whose endpoints to publish. */
  hostPorts: Map<string, Set<string>>;
}

/** A subnet's host route or a router's static route (Neutron's extraroute). */
export interface StaticRoute {
  destination: string;
  nexthop: string;
}

export interface RouterRec {
  id: string;
  tenant: string;
  name: string;
  /** Its static routes, in IPAM's order. */
  routes: StaticRoute[];
  /** subnetId → networkId of every joined subnet. */
  interfaces: Map<string, string>;
}

export interface IpamModel {
  hypervisors: Map<string, HypervisorRec>;
  networks: Map<string, NetworkRec>;
  subnets: Map<string, SubnetRec>;
  ports: Map<string, FollowedPort>;
  routers: Map<string, RouterRec>;
  /** hostId → every port bound to that host (whether or not the host is registered). */
  hostPorts: Map<string, Set<string>>;
  /** device id → its ports (an appliance's routes are realised on the port they were announced from). */
  devicePorts: Map<string, Set<string>>;
  /**
   * networkId → pair address → its current owner (IPAM's AddressPairOwnerChanged), ended like IPAM ends
   * it (address-pairs.ts, `ownershipsEnded`): by the port's deletion or a change of its pairs.
   */
  pairOwners: Map<string, Map<string, PairOwner>>;
  /** Gateway devices and their bindings (inputs/gateway.ts); hostId → the bindings a gateway host realises. */
  gatewayDevices: Map<string, GatewayDeviceRec>;
  gatewayBindings: Map<string, GatewayBindingRec>;
  hostBindings: Map<string, Set<string>>;
  /**
   * networkId → gateway host → its bindings of the network: it floods and is flooded to like a host with
   * ports. Kept apart from NetworkRec (whether or not the network exists), like hostPorts.
   */
  networkGatewayHosts: Map<string, Map<string, Set<string>>>;
  /** Peering segments and the routers on them (inputs/peering.ts). */
  peeringSegments: Map<string, PeeringSegmentRec>;
  peeringAttachments: Map<string, PeeringAttachmentRec>;
}

export const emptyIpamModel = (): IpamModel => ({
  hypervisors: new Map(),
  networks: new Map(),
  subnets: new Map(),
  ports: new Map(),
  routers: new Map(),
  hostPorts: new Map(),
  devicePorts: new Map(),
  pairOwners: new Map(),
  gatewayDevices: new Map(),
  gatewayBindings: new Map(),
  hostBindings: new Map(),
  networkGatewayHosts: new Map(),
  peeringSegments: new Map(),
  peeringAttachments: new Map(),
});

/** Where a port was or is: its network and host (null host: unbound). */
export interface PortPlace {
  networkId: string;
  hostId: string | null;
}

export interface PortMove {
  lifecycle: PortTransition['lifecycle'];
  before: PortPlace | null;
  after: PortPlace | null;
}

/** What an IPAM event changed. */
export interface IpamChange {
  /** Hypervisors registered or deregistered (their VTEP, H-IP, or their existence changed). */
  hosts: Set<string>;
  /** Ports created, bound, moved or deleted: where each was before and is after (null: did not / does not exist). */
  ports: Map<string, PortMove>;
  /** Networks whose record, subnets or routing domain changed, or that were created or deleted. */
  networks: Set<string>;
  /**
   * Routing domains (router ids or lone network ids) whose RoutingDomain value can have changed: their
   * record (tenant), or their member networks (a network created, deleted, joined or left). Includes the
   * domain a network left and the one it joined.
   */
  domains: Set<string>;
  /**
   * Ports whose addresses (fixed IPs, allowed address pairs), owned pair addresses or other settings IPAM
   * updates (admin state) can have changed: their port, endpoint and member keys.
   */
  pairs: Set<string>;
  /** Gateway bindings created, moved or deleted: their network and gateway host before and after (inputs/gateway.ts). */
  bindings: Map<string, BindingMove>;
}

export const emptyIpamChange = (): IpamChange => ({ hosts: new Set(), ports: new Map(), networks: new Set(), domains: new Set(), pairs: new Set(), bindings: new Map() });

export type IpamInputEvent = Slice<IpamEvent>;

/** Fold one IPAM event into `model.ipam`; records what changed in `change.ipam`. */
export function applyIpamEvent(ipam: IpamModel, event: IpamInputEvent, change: Change): void {
  applyOne(ipam, event, change);
  touchPeers(ipam, change.ipam);
}

function applyOne(ipam: IpamModel, event: IpamInputEvent, change: Change): void {
  const out = change.ipam;
  switch (event.type) {
    case 'ipam.HypervisorRegistered': {
      const d = event.data;
      ipam.hypervisors.set(d.hostId, { id: d.hostId, vtepIp: d.vtepIp, publicIp: d.publicIp });
      out.hosts.add(d.hostId);
      break;
    }
    case 'ipam.HypervisorDeregistered':
      if (ipam.hypervisors.delete(event.data.hostId)) out.hosts.add(event.data.hostId);
      break;
    case 'ipam.NetworkCreated': {
      const d = event.data;
      const existing = ipam.networks.get(d.networkId);
      if (existing) {
        existing.tenant = event.tenant;
        existing.vni = d.vni;
        existing.mtu = d.mtu;
        existing.routed = d.routed;
      } else {
        ipam.networks.set(d.networkId, {
          id: d.networkId,
          tenant: event.tenant,
          vni: d.vni,
          mtu: d.mtu,
          routed: d.routed,
          subnets: new Set(),
          ports: new Set(),
          hostPorts: new Map(),
        });
      }
      out.networks.add(d.networkId);
      out.domains.add(domainOf(ipam, d.networkId));
      touchNetworkBindings(ipam, d.networkId, out);
      break;
    }
    case 'ipam.NetworkUpdated': {
      // Name and description are not realised; the MTU is (links, DHCP option).
      const network = ipam.networks.get(event.data.networkId);
      if (!network || event.data.mtu === undefined) break;
      network.mtu = event.data.mtu;
      out.networks.add(network.id);
      break;
    }
    case 'ipam.NetworkDeleted':
      deleteNetwork(ipam, event.data.networkId, out);
      break;
    case 'ipam.SubnetCreated': {
      const d = event.data;
      const networkId = event.aggregate.id;
      if (!ipam.networks.has(networkId)) break;
      if (ipam.subnets.has(d.subnetId)) deleteSubnet(ipam, d.subnetId, out);
      ipam.subnets.set(d.subnetId, {
        id: d.subnetId,
        networkId,
        ipVersion: d.ipVersion,
        cidr: d.cidr,
        gatewayIp: d.gatewayIp,
        enableDhcp: d.enableDhcp,
        dnsNameservers: [...(d.dnsNameservers ?? [])],
        hostRoutes: copyRoutes(d.hostRoutes),
        ...presentIpv6Modes(d),
        routerId: null,
      });
      ipam.networks.get(networkId)!.subnets.add(d.subnetId);
      out.networks.add(networkId);
      break;
    }
    case 'ipam.SubnetDeleted':
      deleteSubnet(ipam, event.data.subnetId, out);
      break;
    case 'ipam.PortCreated':
      // A port of a network the model does not hold (deleted, or never seen) has nowhere to go.
      if (!ipam.networks.has(event.aggregate.id)) break;
      indexStep(ipam, applyPortEvent(ipam.ports, event), out);
      break;
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted':
      indexStep(ipam, applyPortEvent(ipam.ports, event), out);
      break;
    case 'ipam.PortAllowedAddressPairsSet': {
      const step = applyAddressPairsEvent(ipam.ports, event);
      if (!step) break;
      out.pairs.add(step.after.id);
      endOwnerships(ipam, step.after.networkId, step.after.id, step.after.allowedAddressPairs);
      break;
    }
    case 'ipam.AddressPairOwnerChanged': {
      const d = event.data;
      const port = ipam.ports.get(d.portId);
      // IPAM decides an owner only for an existing port of the network; a log saying otherwise changes nothing.
      if (!port || port.networkId !== event.aggregate.id) break;
      let owners = ipam.pairOwners.get(port.networkId);
      if (!owners) ipam.pairOwners.set(port.networkId, (owners = new Map()));
      const previous = owners.get(d.ip);
      if (previous) out.pairs.add(previous.portId);
      owners.set(d.ip, { portId: d.portId, mac: d.mac });
      out.pairs.add(d.portId);
      break;
    }
    case 'ipam.RouterCreated': {
      const d = event.data;
      const existing = ipam.routers.get(d.routerId);
      if (existing) {
        existing.tenant = event.tenant;
        existing.name = d.name;
        existing.routes = copyRoutes(d.routes);
      } else {
        ipam.routers.set(d.routerId, { id: d.routerId, tenant: event.tenant, name: d.name, routes: copyRoutes(d.routes), interfaces: new Map() });
      }
      out.domains.add(d.routerId);
      break;
    }
    case 'ipam.RouterInterfaceAdded': {
      const router = ipam.routers.get(event.data.routerId);
      const subnet = ipam.subnets.get(event.data.subnetId);
      // The subnet's own network is the truth; the event's networkId only repeats it.
      if (!router || !subnet || subnet.routerId === router.id) break;
      const networkId = subnet.networkId;
      out.domains.add(domainOf(ipam, networkId));
      if (subnet.routerId !== null) detach(ipam, subnet, out);
      subnet.routerId = router.id;
      router.interfaces.set(subnet.id, networkId);
      out.networks.add(networkId);
      out.domains.add(router.id);
      out.domains.add(domainOf(ipam, networkId));
      break;
    }
    case 'ipam.RouterInterfaceRemoved': {
      const subnet = ipam.subnets.get(event.data.subnetId);
      if (!subnet || subnet.routerId !== event.data.routerId) break;
      detach(ipam, subnet, out);
      break;
    }
    case 'ipam.RouterDeleted': {
      const router = ipam.routers.get(event.data.routerId);
      if (!router) break;
      for (const subnetId of [...router.interfaces.keys()]) detach(ipam, ipam.subnets.get(subnetId)!, out);
      ipam.routers.delete(router.id);
      out.domains.add(router.id);
      break;
    }
    // Nothing on a hypervisor depends on these (yet): public pools, floating IPs and application
    // prefixes are realised by the NAT and BGP services; a closed network is still realised.
    case 'ipam.SubnetUpdated': {
      // What DHCP serves is realised (on/off, DNS servers, host routes); names, descriptions and pools are not.
      const d = event.data;
      const subnet = ipam.subnets.get(d.subnetId);
      if (!subnet || (d.enableDhcp === undefined && d.dnsNameservers === undefined && d.hostRoutes === undefined)) break;
      if (d.enableDhcp !== undefined) subnet.enableDhcp = d.enableDhcp;
      if (d.dnsNameservers !== undefined) subnet.dnsNameservers = [...d.dnsNameservers];
      if (d.hostRoutes !== undefined) subnet.hostRoutes = copyRoutes(d.hostRoutes);
      out.networks.add(subnet.networkId);
      break;
    }
    case 'ipam.RouterUpdated': {
      // Its static routes are realised in its namespaces; its name and description are not.
      const router = ipam.routers.get(event.data.routerId);
      if (!router || event.data.routes === undefined) break;
      router.routes = copyRoutes(event.data.routes);
      out.domains.add(router.id);
      break;
    }
    case 'ipam.NetworkClosed':
    case 'ipam.PoolCreated':
    case 'ipam.PoolDeleted':
    case 'ipam.FloatingIpAllocated':
    case 'ipam.FloatingIpReleased':
    case 'ipam.ApplicationPrefixAllocated':
    case 'ipam.ApplicationPrefixReleased':
      break;
    case 'ipam.GatewayDeviceCreated':
    case 'ipam.GatewayDeviceDeleted':
    case 'ipam.GatewayBindingCreated':
    case 'ipam.GatewayBindingMoved':
    case 'ipam.GatewayBindingDeleted':
      applyGatewayEvent(ipam, event, out);
      break;
    case 'ipam.PhysicalMacLearned':
    case 'ipam.PhysicalMacWithdrawn':
      // The physical input node's (model.ts routes them there, never here).
      break;
    case 'ipam.PeeringSegmentCreated':
    case 'ipam.PeeringSegmentGranted':
    case 'ipam.PeeringSegmentRevoked':
    case 'ipam.PeeringSegmentDeleted':
    case 'ipam.PeeringAttached':
    case 'ipam.PeeringDetached':
      applyPeeringEvent(ipam, event, out);
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know event ${(unreachable as { type: string }).type}`);
    }
  }
}

const copyRoutes = (routes: readonly StaticRoute[] | undefined): StaticRoute[] => (routes ?? []).map((r) => ({ destination: r.destination, nexthop: r.nexthop }));

/** Keep the port indexes in step with one step of the port lifecycle, and record the move. */
function indexStep(ipam: IpamModel, step: PortTransition | null, out: IpamChange): void {
  if (!step) return;
  const { before, after } = step;
  // A deleted (or re-created) port's ownerships its pairs no longer admit end with it.
  if (before && step.lifecycle !== 'bound') endOwnerships(ipam, before.networkId, before.id, after?.allowedAddressPairs);
  if (before) {
    if (before.hostId !== null) unindexHost(ipam, before, before.hostId);
    ipam.networks.get(before.networkId)?.ports.delete(before.id);
    removeFrom(ipam.devicePorts, before.deviceId, before.id);
  }
  if (after) {
    ipam.networks.get(after.networkId)?.ports.add(after.id);
    addTo(ipam.devicePorts, after.deviceId, after.id);
    if (after.hostId !== null) indexHost(ipam, after, after.hostId);
  }
  const place = (p: FollowedPort | null): PortPlace | null => p && { networkId: p.networkId, hostId: p.hostId };
  out.ports.set((after ?? before)!.id, { lifecycle: step.lifecycle, before: place(before), after: place(after) });
  // An update may have changed its addresses or pairs (its port, endpoint and member keys; the owners of its pairs).
  if (step.lifecycle === 'updated') out.pairs.add(step.portId);
}

function endOwnerships(ipam: IpamModel, networkId: string, portId: string, pairs: FollowedPort['allowedAddressPairs']): void {
  const owners = ipam.pairOwners.get(networkId);
  for (const ip of ownershipsEnded(owners, portId, pairs)) owners!.delete(ip);
  if (owners?.size === 0) ipam.pairOwners.delete(networkId);
}

function indexHost(ipam: IpamModel, port: FollowedPort, hostId: string): void {
  addTo(ipam.hostPorts, hostId, port.id);
  const network = ipam.networks.get(port.networkId);
  if (network) addTo(network.hostPorts, hostId, port.id);
}

function unindexHost(ipam: IpamModel, port: FollowedPort, hostId: string): void {
  removeFrom(ipam.hostPorts, hostId, port.id);
  const network = ipam.networks.get(port.networkId);
  if (network) removeFrom(network.hostPorts, hostId, port.id);
}

function deleteNetwork(ipam: IpamModel, networkId: string, out: IpamChange): void {
  const network = ipam.networks.get(networkId);
  if (!network) return;
  out.domains.add(domainOf(ipam, networkId));
  for (const portId of [...network.ports]) indexStep(ipam, removePort(ipam.ports, portId), out);
  for (const subnetId of [...network.subnets]) deleteSubnet(ipam, subnetId, out);
  ipam.pairOwners.delete(networkId);
  ipam.networks.delete(networkId);
  out.networks.add(networkId);
  touchNetworkBindings(ipam, networkId, out);
}

function deleteSubnet(ipam: IpamModel, subnetId: string, out: IpamChange): void {
  const subnet = ipam.subnets.get(subnetId);
  if (!subnet) return;
  if (subnet.routerId !== null) detach(ipam, subnet, out);
  ipam.subnets.delete(subnetId);
  ipam.networks.get(subnet.networkId)?.subnets.delete(subnetId);
  out.networks.add(subnet.networkId);
}

/** Remove a subnet's router interface; records the domains it leaves and joins. */
function detach(ipam: IpamModel, subnet: SubnetRec, out: IpamChange): void {
  const routerId = subnet.routerId;
  if (routerId === null) return;
  out.domains.add(domainOf(ipam, subnet.networkId));
  ipam.routers.get(routerId)?.interfaces.delete(subnet.id);
  subnet.routerId = null;
  out.domains.add(routerId);
  out.domains.add(domainOf(ipam, subnet.networkId));
  out.networks.add(subnet.networkId);
}

/**
 * The routing domain of a network: the router one of its subnets is joined
 * to, else the network itself. IPAM lets a network join one router only; if
 * a log ever said otherwise, the smallest router id wins, so every reader
 * still agrees.
 */
export function domainOf(ipam: IpamModel, networkId: string): string {
  let best: string | undefined;
  for (const subnetId of ipam.networks.get(networkId)?.subnets ?? []) {
    const r = ipam.subnets.get(subnetId)?.routerId ?? null;
    if (r !== null && (best === undefined || r < best)) best = r;
  }
  return best ?? networkId;
}
