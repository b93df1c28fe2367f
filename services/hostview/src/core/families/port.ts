/**
 * `<H>.port.<p>` (LocalPort): a port bound to H, with its admin state and
 * addresses (IPAM), groups and port security (secgroup), floating IPs (NAT)
 * and accepted announced routes (BGP).
 */
import { hostviewKey, portDevice, type LocalPort } from '@strata/contracts';
import type { FollowedPort } from '@strata/contracts';
import { groupIdsOf } from '../inputs/secgroup.js';
import type { Change, Model } from '../model.js';
import { ownedAddressesOf, portHosts, stringify, type KeyFamily } from './family.js';

export const portFamily: KeyFamily<'port'> = {
  kind: 'port',
  putOrder: 5,
  value(model, k): LocalPort | undefined {
    const p = model.ipam.ports.get(k.id);
    if (!p || p.hostId !== k.hostId || !model.ipam.hypervisors.has(k.hostId)) return undefined;
    const sec = model.secgroup.portSecurity.get(p.id);
    return {
      ...(p.adminStateUp === false ? { adminStateUp: false } : {}),
      ...allowedAddressPairsOf(p),
      ...announcedRoutesOf(model, p),
      device: portDevice(p.id),
      // The port's own ordered list (IPAM's order, deterministic given the log).
      fixedIps: p.fixedIps.map((f) => ({ ip: f.ip, subnetId: f.subnetId })),
      ...floatingIpsOf(model, p.id),
      // null until secgroup decided the port's groups: the agent keeps such a port unplugged.
      groupIds: sec?.groupIds == null ? null : [...groupIdsOf(model.secgroup, p.id)],
      id: p.id,
      mac: p.mac,
      networkId: p.networkId,
      ...ownedAddressesOf(model, p),
      portSecurity: sec?.portSecurity ?? true,
      tenant: p.tenant,
    };
  },
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const id of model.ipam.hostPorts.get(hostId) ?? []) put(hostviewKey.port(hostId, id), this.value(model, { hostId, id, portId: '' }, needs));
  },
  hosts: (model, change, add) => portHosts(model, change, settingsChanged(change), add),
  touched(_model, hostId, change, _needs, add) {
    for (const portId of change.ipam.ports.keys()) add(hostviewKey.port(hostId, portId));
    for (const ports of settingsChanged(change)) for (const portId of ports) add(hostviewKey.port(hostId, portId));
  },
};

/** Ports whose settings changed: pairs and owned addresses, groups and port security, floating IPs, announced routes. */
const settingsChanged = (change: Change): ReadonlySet<string>[] => [
  change.ipam.pairs,
  change.secgroup.ports,
  change.nat.ports,
  change.bgp.ports,
];

/** `{allowedAddressPairs}` in IPAM's order, or nothing when the port has none. */
function allowedAddressPairsOf(p: FollowedPort): { allowedAddressPairs?: Array<{ ipAddress: string; macAddress: string }> } {
  const pairs = p.allowedAddressPairs;
  return pairs?.length ? { allowedAddressPairs: pairs.map((a) => ({ ipAddress: a.ipAddress, macAddress: a.macAddress })) } : {};
}

/** Routes recorded before the gateway named the appliance's tenant. */
const LEGACY_ROUTE_TENANT = '_system';

/**
 * `{announcedRoutes}`: the device's accepted routes announced from this port's addresses, sorted; nothing
 * when none. Only the routes of the port's own tenant: a device id and an address (tenants' routed subnets
 * may overlap) are no proof of identity (issue 12, defect 2).
 */
function announcedRoutesOf(model: Model, p: FollowedPort): { announcedRoutes?: Array<{ nextHop: string; prefix: string }> } {
  const ids = model.bgp.deviceRoutes.get(p.deviceId);
  if (!ids || ids.size === 0) return {};
  const mine = new Set(p.fixedIps.map((f) => f.ip));
  const routes = [...ids]
    .map((id) => model.bgp.appRoutes.get(id)!)
    .filter((r) => mine.has(r.nextHop) && (r.tenant === p.tenant || r.tenant === LEGACY_ROUTE_TENANT))
    .map((r) => ({ nextHop: r.nextHop, prefix: r.prefix }))
    .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : a.nextHop < b.nextHop ? -1 : a.nextHop > b.nextHop ? 1 : 0));
  return routes.length ? { announcedRoutes: routes } : {};
}

/** `{floatingIps}` sorted by address, or nothing when the port has none (the key is left out). */
function floatingIpsOf(model: Model, portId: string): { floatingIps?: Array<{ address: string; fixedIp: string }> } {
  const ids = model.nat.portFloatingIps.get(portId);
  if (!ids || ids.size === 0) return {};
  const fips = [...ids].map((id) => model.nat.floatingIps.get(id)!).map((f) => ({ address: f.address, fixedIp: f.fixedIp }));
  return { floatingIps: fips.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) };
}
