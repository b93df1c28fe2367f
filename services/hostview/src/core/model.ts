/**
 * The inputs of the per-host derivation, as an in-memory model folded from
 * IPAM's and secgroup's events: hypervisors, networks, subnets, ports and
 * routers; security groups, their rules and each port's groups and port
 * security; with the indexes the derivation needs (ports per host, ports per
 * host per network, ports and hosts per group, groups naming a remote group).
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
import {
  BGP_CONTEXT,
  bgpEvents,
  type BgpEvent,
  IPAM_CONTEXT,
  ipamEvents,
  NAT_CONTEXT,
  natEvents,
  type NatEvent,
  SECGROUP_CONTEXT,
  secgroupEvents,
  type HostRule,
  type IpamEvent,
  type SecgroupEvent,
  type SecurityGroupRule,
} from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';

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
  /** The VM (device) the port belongs to: what BGP appliance routes name. */
  deviceId: string;
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

export interface RouterRec {
  id: string;
  tenant: string;
  name: string;
  /** subnetId → networkId of every joined subnet. */
  interfaces: Map<string, string>;
}

export interface GroupRec {
  id: string;
  tenant: string;
  /** ruleId → rule (fields in canonical key order). */
  rules: Map<string, HostRule>;
}

/** A port's filtering as secgroup set it (beside IPAM's port: it may exist before or after the port). */
export interface PortSecurityRec {
  /**
   * Sorted, without duplicates; may name groups that do not exist (deleted concurrently: they contribute nothing).
   * null until secgroup has decided the port's groups: such a port is not plugged (fail closed, see LocalPort).
   */
  groupIds: string[] | null;
  portSecurity: boolean;
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
  /** Security groups that exist. */
  groups: Map<string, GroupRec>;
  /** portId → its groups and port security; absent = no groups, port security on. */
  portSecurity: Map<string, PortSecurityRec>;
  /** groupId → ports whose groups list it (whether the port or the group exists). */
  groupPorts: Map<string, Set<string>>;
  /** groupId → hostId → how many existing ports bound to that host list the group. */
  groupHosts: Map<string, Map<string, number>>;
  /** remote group id → existing group → how many of its rules name it as remote group. */
  remoteRefs: Map<string, Map<string, number>>;
  /** NAT: floatingIpId → its association (realised on the host of the port). */
  floatingIps: Map<string, FloatingIpRec>;
  /** NAT: portId → the floating IPs associated with it (whether or not the port exists). */
  portFloatingIps: Map<string, Set<string>>;
  /** NAT: routers with an external gateway (outbound PNAT for their networks' ports). */
  gateways: Set<string>;
  /** BGP: routes appliances announced and the gateway accepted, by route id (`bgp.route.<id>`). */
  appRoutes: Map<string, AppRouteRec>;
  /** BGP: device id → ids of its accepted routes. */
  deviceRoutes: Map<string, Set<string>>;
  /** device id → its ports (an appliance's routes are realised on the port they were announced from). */
  devicePorts: Map<string, Set<string>>;
}

export interface AppRouteRec {
  id: string;
  prefix: string;
  /** The appliance's address it was announced from (a fixed IP of one of the device's ports). */
  nextHop: string;
  deviceId: string;
  /**
   * The tenant owning the appliance port the gateway learned it from (the event's tenant): only that
   * tenant's ports with the device id get the route. `_system`: recorded before the gateway said (any tenant).
   */
  tenant: string;
}

export interface FloatingIpRec {
  id: string;
  address: string;
  portId: string;
  fixedIp: string;
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
    groups: new Map(),
    portSecurity: new Map(),
    groupPorts: new Map(),
    groupHosts: new Map(),
    remoteRefs: new Map(),
    floatingIps: new Map(),
    portFloatingIps: new Map(),
    gateways: new Set(),
    appRoutes: new Map(),
    deviceRoutes: new Map(),
    devicePorts: new Map(),
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
  /** Security groups whose HostSecurityGroup value can have changed: created, deleted, a rule added or removed. */
  groups: Set<string>;
  /**
   * groupId → ports whose membership of the group, or whose GroupMember value (IPs), can have changed:
   * the port joined or left the group, the port was created, re-created or deleted, the group was created or deleted.
   */
  members: Map<string, Set<string>>;
  /** Ports whose security settings (groups, port security: their LocalPort) changed. */
  portSettings: Set<string>;
}

export function emptyChange(): ChangeSet {
  return { hosts: new Set(), ports: new Map(), networks: new Set(), domains: new Set(), groups: new Set(), members: new Map(), portSettings: new Set() };
}

export const isEmptyChange = (c: ChangeSet): boolean =>
  c.hosts.size === 0 &&
  c.ports.size === 0 &&
  c.networks.size === 0 &&
  c.domains.size === 0 &&
  c.groups.size === 0 &&
  c.members.size === 0 &&
  c.portSettings.size === 0;

/** The slice of a decoded event the model reads: type and data, aggregate, tenant and position. */
type Slice<E extends { type: string; data: unknown; aggregate: unknown; tenant: string; seq: number }> = {
  [K in E['type']]: { type: K; data: Extract<E, { type: K }>['data'] } & Pick<E, 'aggregate' | 'tenant' | 'seq'>;
}[E['type']];

/** An IPAM, secgroup, NAT or BGP event as the model reads it. */
export type ModelEvent = Slice<IpamEvent> | Slice<SecgroupEvent> | Slice<NatEvent> | Slice<BgpEvent>;

/**
 * Decode a stored event of the domain stream for the model: IPAM's and
 * secgroup's events (an event of those contexts this build cannot decode
 * throws: the reader stops rather than skip it); undefined for any other
 * context's event, which nothing here depends on.
 */
export function toModelEvent(stored: StoredEvent): ModelEvent | undefined {
  switch (stored.aggregate.context) {
    case IPAM_CONTEXT:
      return ipamEvents.decode(stored);
    case SECGROUP_CONTEXT:
      return secgroupEvents.decode(stored);
    case NAT_CONTEXT:
      return natEvents.decode(stored);
    // Only the route observations matter here; the gateway's configuration is not the hypervisors' business.
    case BGP_CONTEXT:
      return stored.type === 'bgp.RouteLearned' || stored.type === 'bgp.RouteWithdrawn' ? bgpEvents.decode(stored) : undefined;
    default:
      return undefined;
  }
}

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
        existing.routed = d.routed;
      } else {
        model.networks.set(d.networkId, {
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
      const before = removePort(model, d.portId, change);
      const port: PortRec = { id: d.portId, networkId, tenant: event.tenant, mac: d.mac, fixedIps: d.fixedIps, hostId: d.hostId, deviceId: d.deviceId };
      model.ports.set(port.id, port);
      addTo(model.devicePorts, port.deviceId, port.id);
      network.ports.add(port.id);
      if (port.hostId !== null) indexPort(model, port, port.hostId);
      change.ports.set(port.id, { before, after: { networkId, hostId: port.hostId } });
      markMemberships(model, port.id, change);
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
      const before = removePort(model, event.data.portId, change);
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

    // ---- secgroup ----
    case 'secgroup.GroupCreated': {
      const d = event.data;
      const existing = model.groups.get(d.groupId);
      // Re-created (the default group can be): the event's rules replace the old ones.
      if (existing) unindexRules(model, existing);
      const group: GroupRec = { id: d.groupId, tenant: event.tenant, rules: new Map() };
      for (const r of d.rules) group.rules.set(r.id, hostRule(r));
      model.groups.set(group.id, group);
      indexRules(model, group);
      change.groups.add(group.id);
      // The group comes into existence: every port listing it (and existing) becomes a member.
      if (!existing) markGroupMembers(model, group.id, change);
      break;
    }
    case 'secgroup.RuleAdded': {
      const group = model.groups.get(event.data.groupId);
      if (!group) break;
      const rule = hostRule(event.data.rule);
      const old = group.rules.get(rule.id);
      if (old) unindexRule(model, group.id, old);
      group.rules.set(rule.id, rule);
      indexRule(model, group.id, rule);
      change.groups.add(group.id);
      break;
    }
    case 'secgroup.RuleRemoved': {
      const group = model.groups.get(event.data.groupId);
      const rule = group?.rules.get(event.data.ruleId);
      if (!group || !rule) break;
      group.rules.delete(rule.id);
      unindexRule(model, group.id, rule);
      change.groups.add(group.id);
      break;
    }
    case 'secgroup.GroupDeleted': {
      const group = model.groups.get(event.data.groupId);
      if (!group) break;
      unindexRules(model, group);
      model.groups.delete(group.id);
      change.groups.add(group.id);
      // Ports still listing it (a concurrent race, see secgroup's README) stop being members.
      markGroupMembers(model, group.id, change);
      break;
    }
    case 'secgroup.PortGroupsSet':
      setPortGroups(model, event.data.portId, [...new Set(event.data.groupIds)].sort(), change);
      break;
    case 'secgroup.PortSecuritySet': {
      const { portId, enabled } = event.data;
      if ((model.portSecurity.get(portId)?.portSecurity ?? true) === enabled) break;
      const rec = model.portSecurity.get(portId);
      if (rec) rec.portSecurity = enabled;
      else model.portSecurity.set(portId, { groupIds: null, portSecurity: enabled });
      change.portSettings.add(portId);
      break;
    }
    case 'secgroup.PortForgotten': {
      const portId = event.data.portId;
      const rec = model.portSecurity.get(portId);
      if (!rec) break;
      setPortGroups(model, portId, [], change);
      // Forgetting turns "known" back into "not known" (null groups), whatever the groups were.
      change.portSettings.add(portId);
      model.portSecurity.delete(portId);
      break;
    }
    // ---- nat ----
    case 'nat.FloatingIpAssociated': {
      const d = event.data;
      const old = model.floatingIps.get(d.floatingIpId);
      if (old) {
        removeFrom(model.portFloatingIps, old.portId, old.id);
        change.portSettings.add(old.portId);
      }
      model.floatingIps.set(d.floatingIpId, { id: d.floatingIpId, address: d.address, portId: d.portId, fixedIp: d.fixedIp });
      addTo(model.portFloatingIps, d.portId, d.floatingIpId);
      change.portSettings.add(d.portId);
      break;
    }
    case 'nat.FloatingIpDisassociated': {
      const old = model.floatingIps.get(event.data.floatingIpId);
      if (!old) break;
      model.floatingIps.delete(old.id);
      removeFrom(model.portFloatingIps, old.portId, old.id);
      change.portSettings.add(old.portId);
      break;
    }
    case 'nat.ExternalGatewayEnabled':
    case 'nat.ExternalGatewayDisabled': {
      const routerId = event.data.routerId;
      const enabled = event.type === 'nat.ExternalGatewayEnabled';
      if (model.gateways.has(routerId) === enabled) break;
      if (enabled) model.gateways.add(routerId);
      else model.gateways.delete(routerId);
      change.domains.add(routerId);
      break;
    }
    // ---- bgp ----
    case 'bgp.RouteLearned': {
      const d = event.data;
      const id = event.aggregate.id;
      dropAppRoute(model, id, change);
      if (d.deviceId === null) break; // a border route: nothing for hypervisors
      model.appRoutes.set(id, { id, prefix: d.prefix, nextHop: d.nextHop, deviceId: d.deviceId, tenant: event.tenant });
      addTo(model.deviceRoutes, d.deviceId, id);
      for (const p of model.devicePorts.get(d.deviceId) ?? []) change.portSettings.add(p);
      break;
    }
    case 'bgp.RouteWithdrawn':
      dropAppRoute(model, event.aggregate.id, change);
      break;
    case 'bgp.SettingsSet':
    case 'bgp.PeerAdded':
    case 'bgp.PeerRemoved':
    case 'bgp.PeerGroupAdded':
    case 'bgp.PeerGroupRemoved':
    case 'bgp.AppliancePrefixAssigned':
    case 'bgp.AppliancePrefixUnassigned':
    case 'bgp.RouteRejected':
    case 'bgp.ApplianceSessionLimited':
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know event ${(unreachable as { type: string }).type}`);
    }
  }
  return change;
}

/** Forget an accepted appliance route; the ports of its device are recomputed. */
function dropAppRoute(model: Model, id: string, change: ChangeSet): void {
  const old = model.appRoutes.get(id);
  if (!old) return;
  model.appRoutes.delete(id);
  removeFrom(model.deviceRoutes, old.deviceId, id);
  for (const p of model.devicePorts.get(old.deviceId) ?? []) change.portSettings.add(p);
}

function deleteNetwork(model: Model, networkId: string, change: ChangeSet): void {
  const network = model.networks.get(networkId);
  if (!network) return;
  change.domains.add(domainOf(model, networkId));
  for (const portId of [...network.ports]) {
    const before = removePort(model, portId, change);
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

/** Remove a port from the model; its memberships end (they are recorded in `change`). */
function removePort(model: Model, portId: string, change: ChangeSet): PortPlace | null {
  const port = model.ports.get(portId);
  if (!port) return null;
  markMemberships(model, portId, change);
  if (port.hostId !== null) unindexPort(model, port, port.hostId);
  model.networks.get(port.networkId)?.ports.delete(portId);
  removeFrom(model.devicePorts, port.deviceId, portId);
  model.ports.delete(portId);
  return { networkId: port.networkId, hostId: port.hostId };
}

function indexPort(model: Model, port: PortRec, hostId: string): void {
  addTo(model.hostPorts, hostId, port.id);
  const network = model.networks.get(port.networkId);
  if (network) addTo(network.hostPorts, hostId, port.id);
  for (const g of groupIdsOf(model, port.id)) count(model.groupHosts, g, hostId, 1);
}

function unindexPort(model: Model, port: PortRec, hostId: string): void {
  removeFrom(model.hostPorts, hostId, port.id);
  const network = model.networks.get(port.networkId);
  if (network) removeFrom(network.hostPorts, hostId, port.id);
  for (const g of groupIdsOf(model, port.id)) count(model.groupHosts, g, hostId, -1);
}

/** Add `delta` to a counter in a two-level index, dropping entries that reach 0. */
function count(index: Map<string, Map<string, number>>, outer: string, inner: string, delta: number): void {
  let m = index.get(outer);
  if (!m) index.set(outer, (m = new Map()));
  const n = (m.get(inner) ?? 0) + delta;
  if (n > 0) m.set(inner, n);
  else {
    m.delete(inner);
    if (m.size === 0) index.delete(outer);
  }
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

/** What a host needs of the network: the domains of its local ports' networks, and every network of those domains. */
export interface NetworkNeeds {
  networks: Set<string>;
  domains: Set<string>;
}

/** Everything a host's view is made of besides its own ports. */
export type HostNeeds = NetworkNeeds & SecurityNeeds;

export function hostNeeds(model: Model, hostId: string): HostNeeds {
  return { ...hostNetworkNeeds(model, hostId), ...hostSecurityNeeds(model, hostId) };
}

export function hostNetworkNeeds(model: Model, hostId: string): NetworkNeeds {
  const domains = new Set<string>();
  for (const portId of model.hostPorts.get(hostId) ?? []) {
    const port = model.ports.get(portId);
    if (port) domains.add(domainOf(model, port.networkId));
  }
  const networks = new Set<string>();
  for (const d of domains) for (const n of domainNetworks(model, d)) networks.add(n);
  return { networks, domains };
}

// ---- Security groups --------------------------------------------------------

/** A rule as the host view carries it, keys in code-point order (so JSON.stringify is canonical). */
function hostRule(r: SecurityGroupRule): HostRule {
  return {
    direction: r.direction,
    ethertype: r.ethertype,
    icmpCode: r.icmpCode,
    icmpType: r.icmpType,
    id: r.id,
    portMax: r.portMax,
    portMin: r.portMin,
    protocol: r.protocol,
    remoteCidr: r.remoteCidr,
    remoteGroupId: r.remoteGroupId,
  };
}

function indexRule(model: Model, groupId: string, rule: HostRule): void {
  if (rule.remoteGroupId !== null) count(model.remoteRefs, rule.remoteGroupId, groupId, 1);
}

function unindexRule(model: Model, groupId: string, rule: HostRule): void {
  if (rule.remoteGroupId !== null) count(model.remoteRefs, rule.remoteGroupId, groupId, -1);
}

function indexRules(model: Model, group: GroupRec): void {
  for (const rule of group.rules.values()) indexRule(model, group.id, rule);
}

function unindexRules(model: Model, group: GroupRec): void {
  for (const rule of group.rules.values()) unindexRule(model, group.id, rule);
}

const EMPTY_IDS: readonly string[] = [];

/** The groups a port lists (sorted), whether or not they exist. */
export function groupIdsOf(model: Model, portId: string): readonly string[] {
  return model.portSecurity.get(portId)?.groupIds ?? EMPTY_IDS;
}

/** A port is a member of a group when both exist and the port lists the group. */
export function isMember(model: Model, groupId: string, portId: string): boolean {
  return model.groups.has(groupId) && model.ports.has(portId) && groupIdsOf(model, portId).includes(groupId);
}

/** Record (group, port) as a membership that can have changed, if it can exist at all. */
function markMember(model: Model, groupId: string, portId: string, change: ChangeSet): void {
  if (model.groups.has(groupId) && model.ports.has(portId)) addTo(change.members, groupId, portId);
}

/** Every membership of one port (it is created, re-created or deleted). */
function markMemberships(model: Model, portId: string, change: ChangeSet): void {
  for (const g of groupIdsOf(model, portId)) markMember(model, g, portId, change);
}

/** Every membership of one group (it comes into existence or goes). */
function markGroupMembers(model: Model, groupId: string, change: ChangeSet): void {
  for (const p of model.groupPorts.get(groupId) ?? []) if (model.ports.has(p)) addTo(change.members, groupId, p);
}

/** Replace a port's groups (sorted, unique): memberships left and joined, and the port's settings, are recorded. */
function setPortGroups(model: Model, portId: string, groupIds: string[], change: ChangeSet): void {
  const before = groupIdsOf(model, portId);
  const known = model.portSecurity.get(portId)?.groupIds != null;
  // The first decision always counts, even an empty list: it turns "not known yet" into "known".
  if (known && before.length === groupIds.length && before.every((g, i) => g === groupIds[i])) return;
  const hostId = model.ports.get(portId)?.hostId ?? null;
  const after = new Set(groupIds);
  for (const g of before) {
    if (after.has(g)) continue;
    markMember(model, g, portId, change);
    removeFrom(model.groupPorts, g, portId);
    if (hostId !== null) count(model.groupHosts, g, hostId, -1);
  }
  const had = new Set(before);
  for (const g of groupIds) {
    if (had.has(g)) continue;
    addTo(model.groupPorts, g, portId);
    if (hostId !== null) count(model.groupHosts, g, hostId, 1);
    markMember(model, g, portId, change);
  }
  const rec = model.portSecurity.get(portId);
  if (rec) rec.groupIds = groupIds;
  else model.portSecurity.set(portId, { groupIds, portSecurity: true });
  change.portSettings.add(portId);
}

/** Hosts with an existing port bound to them that lists the group (registered or not). */
export function hostsWithMembers(model: Model, groupId: string): Iterable<string> {
  return model.groupHosts.get(groupId)?.keys() ?? EMPTY_IDS;
}

/** Hosts whose local groups' rules name `groupId` as remote group: the hosts that hold its member keys. */
export function hostsReferencing(model: Model, groupId: string): Set<string> {
  const hosts = new Set<string>();
  for (const g of model.remoteRefs.get(groupId)?.keys() ?? []) for (const h of hostsWithMembers(model, g)) hosts.add(h);
  return hosts;
}

/**
 * What a host needs of security groups: the groups its ports list, and the
 * remote groups named by the rules of those of them that exist. Neither set
 * asks whether a listed or named group exists (the values do: no sg key for
 * a missing group, no member of a missing group). So a group coming or going
 * changes `remotes` only on the hosts with ports listing it (`change.groups`
 * reaches them), never on the hosts that merely name it: those see a
 * membership change (`change.members`) instead, one member key each.
 */
export interface SecurityNeeds {
  groups: Set<string>;
  remotes: Set<string>;
}

export function hostSecurityNeeds(model: Model, hostId: string): SecurityNeeds {
  const groups = new Set<string>();
  for (const portId of model.hostPorts.get(hostId) ?? []) for (const g of groupIdsOf(model, portId)) groups.add(g);
  const remotes = new Set<string>();
  for (const g of groups) {
    for (const rule of model.groups.get(g)?.rules.values() ?? []) if (rule.remoteGroupId !== null) remotes.add(rule.remoteGroupId);
  }
  return { groups, remotes };
}
