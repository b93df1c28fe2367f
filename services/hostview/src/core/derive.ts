/**
 * The derivation: what one host's view contains, computed from the model.
 *
 *   host has port p      p.hostId = H
 *   host needs network N H has a port on a network of N's routing domain
 *                        (its local router routes into every subnet of the domain)
 *
 *   <H>.host             HostInfo        H is registered
 *   <H>.port.<p>         LocalPort       p is bound to H
 *   <H>.net.<N>          HostNetwork     H needs N; floodVteps = other hosts with ports on N
 *   <H>.ep.<p>           RemoteEndpoint  p on a network H needs, bound to a registered host G ≠ H
 *   <H>.domain.<D>       RoutingDomain   D is the domain of a network H needs
 *   <H>.sg.<g>           HostSecurityGroup  a port bound to H is a member of g (g exists)
 *   <H>.member.<r>.<p>   GroupMember     r is the remote group of a rule of some <H>.sg.<g>, and p is a
 *                                        member of r (p exists in IPAM; bound to any host, or unbound)
 *
 * A port is a member of a group when both exist and the port's latest
 * PortGroupsSet lists the group. LocalPort carries the port's groups as
 * listed (also ids of groups deleted concurrently: such a port stays
 * filtered, fail closed) and its port security (default on).
 *
 * An unregistered host has an empty view. Values are canonical JSON.
 *
 * `deriveHost` is the full recompute of one host (the fallback and the test
 * oracle); the per-key functions let the incremental path recompute only the
 * keys a change touches; `affectedHosts` says which hosts a change can touch.
 */
import {
  gatewayMac,
  hostviewKey,
  portDevice,
  type GroupMember,
  type HostInfo,
  type HostNetwork,
  type HostSecurityGroup,
  type LocalPort,
  type RemoteEndpoint,
  type RoutingDomain,
  type SubnetInfo,
} from '@strata/contracts';
import {
  domainNetworks,
  domainOf,
  groupIdsOf,
  hostNeeds,
  hostsNeeding,
  hostsOfDomain,
  hostsOnNetwork,
  hostsReferencing,
  hostsWithMembers,
  isMember,
  type ChangeSet,
  type HostNeeds,
  type Model,
  type PortRec,
} from './model.js';

/** One host's view: KV key → canonical JSON value. */
export type HostKeys = Map<string, string>;

export const KEY_KINDS = ['host', 'port', 'net', 'ep', 'domain', 'sg', 'member'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

export interface ParsedKey {
  hostId: string;
  kind: KeyKind;
  /** Port, network, domain or group id; '' for the host key. */
  id: string;
  /** The member's port id (member keys only; '' otherwise). */
  portId: string;
}

/** Split `<hostId>.<kind>[.<id>[.<portId>]]`; undefined for a key this layout does not produce. Ids contain no dots. */
export function parseKey(key: string): ParsedKey | undefined {
  const parts = key.split('.');
  const [hostId, kind, id, portId] = parts;
  if (hostId === undefined || hostId === '' || kind === undefined) return undefined;
  if (kind === 'host') return parts.length === 2 ? { hostId, kind, id: '', portId: '' } : undefined;
  if (id === undefined || id === '' || !(KEY_KINDS as readonly string[]).includes(kind)) return undefined;
  if (kind === 'member') return parts.length === 4 && portId !== undefined && portId !== '' ? { hostId, kind, id, portId } : undefined;
  if (parts.length !== 3) return undefined;
  return { hostId, kind: kind as KeyKind, id, portId: '' };
}

/** The host a key belongs to (its first token). */
export const hostOfKey = (key: string): string => {
  const dot = key.indexOf('.');
  return dot < 0 ? key : key.slice(0, dot);
};

export const kindOfKey = (key: string): KeyKind | 'unknown' => parseKey(key)?.kind ?? 'unknown';

// ---- One value each ---------------------------------------------------------
// Every object below is written with its keys in code-point order, so plain
// JSON.stringify gives canonical JSON (checked against canonicalJson in the
// golden tests) without re-sorting keys on the hot path.

const encode = (value: object): string => JSON.stringify(value);

export function hostValue(model: Model, hostId: string): HostInfo | undefined {
  const h = model.hypervisors.get(hostId);
  return h && { id: h.id, publicIp: h.publicIp, vtepIp: h.vtepIp };
}

export function localPortValue(model: Model, hostId: string, portId: string): LocalPort | undefined {
  const p = model.ports.get(portId);
  if (!p || p.hostId !== hostId || !model.hypervisors.has(hostId)) return undefined;
  const sec = model.portSecurity.get(portId);
  return {
    ...announcedRoutesOf(model, p),
    device: portDevice(p.id),
    // The port's own ordered list (IPAM's order, deterministic given the log).
    fixedIps: p.fixedIps.map((f) => ({ ip: f.ip, subnetId: f.subnetId })),
    ...floatingIpsOf(model, portId),
    id: p.id,
    mac: p.mac,
    networkId: p.networkId,
    portSecurity: sec?.portSecurity ?? true,
    // null until secgroup decided the port's groups: the agent keeps such a port unplugged.
    securityGroups: sec?.groupIds == null ? null : [...groupIdsOf(model, portId)],
    tenant: p.tenant,
  };
}

/**
 * `{announcedRoutes}`: the device's accepted routes announced from this port's addresses, sorted; nothing
 * when none. Only the routes of the port's own tenant: a device id and an address (tenants' routed subnets
 * may overlap) are no proof of identity (issue 12, defect 2).
 */
/** Routes recorded before the gateway named the appliance's tenant. */
const LEGACY_ROUTE_TENANT = '_system';

function announcedRoutesOf(model: Model, p: PortRec): { announcedRoutes?: Array<{ nextHop: string; prefix: string }> } {
  const ids = model.deviceRoutes.get(p.deviceId);
  if (!ids || ids.size === 0) return {};
  const mine = new Set(p.fixedIps.map((f) => f.ip));
  const routes = [...ids]
    .map((id) => model.appRoutes.get(id)!)
    .filter((r) => mine.has(r.nextHop) && (r.tenant === p.tenant || r.tenant === LEGACY_ROUTE_TENANT))
    .map((r) => ({ nextHop: r.nextHop, prefix: r.prefix }))
    .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : a.nextHop < b.nextHop ? -1 : a.nextHop > b.nextHop ? 1 : 0));
  return routes.length ? { announcedRoutes: routes } : {};
}

/** `{floatingIps}` sorted by address, or nothing when the port has none (the key is left out). */
function floatingIpsOf(model: Model, portId: string): { floatingIps?: Array<{ address: string; fixedIp: string }> } {
  const ids = model.portFloatingIps.get(portId);
  if (!ids || ids.size === 0) return {};
  const fips = [...ids].map((id) => model.floatingIps.get(id)!).map((f) => ({ address: f.address, fixedIp: f.fixedIp }));
  return { floatingIps: fips.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) };
}

export function networkValue(model: Model, hostId: string, networkId: string, needs: HostNeeds): HostNetwork | undefined {
  const n = model.networks.get(networkId);
  if (!n || !needs.networks.has(networkId)) return undefined;
  const subnets: SubnetInfo[] = [];
  for (const id of [...n.subnets].sort()) {
    const s = model.subnets.get(id)!;
    subnets.push({ cidr: s.cidr, enableDhcp: s.enableDhcp, gatewayIp: s.gatewayIp, id: s.id, ipVersion: s.ipVersion });
  }
  const vteps = new Set<string>();
  for (const g of hostsOnNetwork(model, networkId)) if (g !== hostId) vteps.add(model.hypervisors.get(g)!.vtepIp);
  return {
    domainId: domainOf(model, networkId),
    floodVteps: [...vteps].sort(),
    gatewayMac: gatewayMac(n.vni),
    id: n.id,
    mtu: n.mtu,
    ...(n.routed ? { routed: true } : {}),
    subnets,
    tenant: n.tenant,
    vni: n.vni,
  };
}

export function endpointValue(model: Model, hostId: string, portId: string, needs: HostNeeds): RemoteEndpoint | undefined {
  const p = model.ports.get(portId);
  if (!p || p.hostId === null || p.hostId === hostId || !needs.networks.has(p.networkId)) return undefined;
  const g = model.hypervisors.get(p.hostId);
  if (!g) return undefined;
  return { id: p.id, ips: p.fixedIps.map((f) => f.ip), mac: p.mac, networkId: p.networkId, vtep: g.vtepIp };
}

export function domainValue(model: Model, domainId: string, needs: HostNeeds): RoutingDomain | undefined {
  if (!needs.domains.has(domainId)) return undefined;
  const networkIds = domainNetworks(model, domainId).filter((n) => needs.networks.has(n));
  if (networkIds.length === 0) return undefined;
  const router = model.routers.get(domainId);
  if (router) return { ...(model.gateways.has(domainId) ? { externalGateway: true } : {}), id: domainId, kind: 'router', networkIds, tenant: router.tenant };
  return { id: domainId, kind: 'network', networkIds, tenant: model.networks.get(domainId)!.tenant };
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function securityGroupValue(model: Model, groupId: string, needs: HostNeeds): HostSecurityGroup | undefined {
  const g = model.groups.get(groupId);
  if (!g || !needs.groups.has(groupId)) return undefined;
  return { id: g.id, rules: [...g.rules.values()].sort(byId), tenant: g.tenant };
}

export function memberValue(model: Model, groupId: string, portId: string, needs: HostNeeds): GroupMember | undefined {
  if (!needs.remotes.has(groupId) || !isMember(model, groupId, portId)) return undefined;
  return { groupId, ips: model.ports.get(portId)!.fixedIps.map((f) => f.ip), portId };
}

/** The value of one key of one host's view, or undefined when the key should not exist. */
export function keyValue(model: Model, key: string, needs: HostNeeds): string | undefined {
  const k = parseKey(key);
  if (!k || !model.hypervisors.has(k.hostId)) return undefined;
  let value: object | undefined;
  switch (k.kind) {
    case 'host':
      value = hostValue(model, k.hostId);
      break;
    case 'port':
      value = localPortValue(model, k.hostId, k.id);
      break;
    case 'net':
      value = networkValue(model, k.hostId, k.id, needs);
      break;
    case 'ep':
      value = endpointValue(model, k.hostId, k.id, needs);
      break;
    case 'domain':
      value = domainValue(model, k.id, needs);
      break;
    case 'sg':
      value = securityGroupValue(model, k.id, needs);
      break;
    case 'member':
      value = memberValue(model, k.id, k.portId, needs);
      break;
  }
  return value === undefined ? undefined : encode(value);
}

// ---- A whole host -----------------------------------------------------------

export interface HostState {
  needs: HostNeeds;
  keys: HostKeys;
}

/** Full recompute of one host: its needs and every key of its view. */
export function computeHost(model: Model, hostId: string): HostState {
  const keys: HostKeys = new Map();
  const needs = hostNeeds(model, hostId);
  const host = hostValue(model, hostId);
  if (!host) return { needs, keys };
  const put = (key: string, value: object | undefined): void => {
    if (value !== undefined) keys.set(key, encode(value));
  };
  put(hostviewKey.host(hostId), host);
  for (const portId of model.hostPorts.get(hostId) ?? []) put(hostviewKey.port(hostId, portId), localPortValue(model, hostId, portId));
  for (const networkId of needs.networks) {
    put(hostviewKey.net(hostId, networkId), networkValue(model, hostId, networkId, needs));
    for (const [g, ports] of model.networks.get(networkId)!.hostPorts) {
      if (g === hostId || !model.hypervisors.has(g)) continue;
      for (const portId of ports) put(hostviewKey.ep(hostId, portId), endpointValue(model, hostId, portId, needs));
    }
  }
  for (const domainId of needs.domains) put(hostviewKey.domain(hostId, domainId), domainValue(model, domainId, needs));
  for (const groupId of needs.groups) put(hostviewKey.sg(hostId, groupId), securityGroupValue(model, groupId, needs));
  for (const groupId of needs.remotes) {
    for (const portId of model.groupPorts.get(groupId) ?? []) put(hostviewKey.member(hostId, groupId, portId), memberValue(model, groupId, portId, needs));
  }
  return { needs, keys };
}

/** Every key of one host's view, recomputed from scratch. */
export function deriveHost(model: Model, hostId: string): HostKeys {
  return computeHost(model, hostId).keys;
}

// ---- Who a change touches ---------------------------------------------------

/**
 * The hosts whose view a change can alter (computed on the model after the
 * change): the hosts that were or are home to a changed port, and every
 * registered host that needs a changed network, realises a changed domain, or
 * sees endpoints on a (de)registered hypervisor. A host with no port in the
 * routing domains involved is never listed.
 *
 * Security groups: a changed group (rules, existence) touches the hosts with
 * local members of it; a changed membership of group r touches the hosts
 * whose local groups' rules name r (their one member key), and the port's
 * own host through its port or settings change.
 */
export function affectedHosts(model: Model, change: ChangeSet): Set<string> {
  const out = new Set<string>();
  const addAll = (hosts: Iterable<string>): void => {
    for (const h of hosts) out.add(h);
  };
  const networks = new Set<string>(change.networks);
  for (const g of change.hosts) {
    out.add(g);
    for (const portId of model.hostPorts.get(g) ?? []) {
      const p = model.ports.get(portId);
      if (p) networks.add(p.networkId);
    }
  }
  for (const { before, after } of change.ports.values()) {
    for (const place of [before, after]) {
      if (!place) continue;
      if (place.hostId !== null) out.add(place.hostId);
      networks.add(place.networkId);
    }
  }
  for (const n of networks) addAll(hostsNeeding(model, n));
  for (const d of change.domains) addAll(hostsOfDomain(model, d));
  for (const g of change.groups) addAll(hostsWithMembers(model, g));
  for (const r of change.members.keys()) addAll(hostsReferencing(model, r));
  for (const portId of change.portSettings) {
    const h = model.ports.get(portId)?.hostId;
    if (h !== undefined && h !== null) out.add(h);
  }
  // An unregistered host's view is empty and stays so, unless it just lost its registration.
  for (const h of out) if (!model.hypervisors.has(h) && !change.hosts.has(h)) out.delete(h);
  return out;
}
