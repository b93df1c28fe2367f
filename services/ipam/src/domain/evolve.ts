/**
 * state + event → state. Applied in stream order by every IPAM instance and
 * by replay. It mutates the state it is given: IPAM state holds millions of
 * entries at scale and copying it per event would dominate replay time. The
 * state object belongs to one projection; nothing else holds a reference.
 */
import { parseAddress, parsePrefix } from '@strata/netaddr';
import { ipv6ModesOf, ownershipsEnded, type AllocationPool, type AllowedAddressPair, type IpamEvent } from '@strata/contracts';
import { inRanges, poolRanges, rangesSize } from './allocate.js';
import { gatewayMacKey, gatewaySlot, peeringVniHolder, type IpamState, type NetworkState, type PortEntry, type SubnetEntry } from './state.js';

export function evolve(state: IpamState, event: IpamEvent): IpamState {
  state.seq = event.seq;
  if (event.aggregate.type === 'cloud') state.cloud.version = event.seq;
  else if (event.aggregate.type === 'network') network(state, event.aggregate.id).version = event.seq;
  const at = event.occurredAt;
  const tenant = event.tenant;
  const c = state.cloud;
  switch (event.type) {
    case 'ipam.NetworkCreated': {
      const d = event.data;
      c.networks[d.networkId] = {
        id: d.networkId,
        tenant,
        name: d.name,
        vni: d.vni,
        mtu: d.mtu,
        routed: d.routed,
        portSecurityEnabled: d.portSecurityEnabled ?? true,
        federated: d.federated ?? false,
        description: d.description ?? '',
        revision: 1,
        createdAt: at,
        updatedAt: at,
      };
      c.vnis[String(d.vni)] = d.networkId;
      network(state, d.networkId);
      break;
    }
    case 'ipam.NetworkUpdated': {
      const { networkId, ...changed } = event.data;
      const entry = c.networks[networkId];
      if (entry) Object.assign(entry, changed, { revision: entry.revision + 1, updatedAt: at });
      break;
    }
    case 'ipam.NetworkClosed':
      network(state, event.data.networkId).closed = true;
      break;
    case 'ipam.NetworkDeleted': {
      const { networkId, vni } = event.data;
      delete c.networks[networkId];
      delete c.vnis[String(vni)];
      const n = state.networks[networkId];
      if (n) for (const id of Object.keys(n.subnets)) delete state.subnetNetwork[id];
      delete state.networks[networkId];
      break;
    }
    case 'ipam.PoolCreated': {
      const d = event.data;
      c.pools[d.poolId] = {
        id: d.poolId,
        name: d.name,
        cidr: d.cidr,
        purpose: d.purpose,
        ipVersion: parsePrefix(d.cidr).version,
        allocated: 0,
        createdAt: at,
      };
      break;
    }
    case 'ipam.PoolDeleted':
      delete c.pools[event.data.poolId];
      break;
    case 'ipam.HypervisorRegistered': {
      const d = event.data;
      c.hypervisors[d.hostId] = { id: d.hostId, vtepIp: d.vtepIp, publicIp: d.publicIp, hostPoolId: d.hostPoolId, registeredAt: at };
      c.vteps[d.vtepIp] = d.hostId;
      c.publicAllocations[d.publicIp] = `hv:${d.hostId}`;
      bumpPool(state, d.hostPoolId, 1);
      break;
    }
    case 'ipam.HypervisorDeregistered': {
      const h = c.hypervisors[event.data.hostId];
      if (!h) break;
      delete c.vteps[h.vtepIp];
      delete c.publicAllocations[h.publicIp];
      bumpPool(state, h.hostPoolId, -1);
      delete c.hypervisors[h.id];
      break;
    }
    case 'ipam.FloatingIpAllocated': {
      const d = event.data;
      c.floatingIps[d.floatingIpId] = { id: d.floatingIpId, tenant, poolId: d.poolId, address: d.address, description: d.description ?? '', createdAt: at };
      c.publicAllocations[d.address] = `fip:${d.floatingIpId}`;
      bumpPool(state, d.poolId, 1);
      break;
    }
    case 'ipam.FloatingIpReleased': {
      const f = c.floatingIps[event.data.floatingIpId];
      if (!f) break;
      delete c.publicAllocations[f.address];
      bumpPool(state, f.poolId, -1);
      delete c.floatingIps[f.id];
      break;
    }
    case 'ipam.ApplicationPrefixAllocated': {
      const d = event.data;
      c.appPrefixes[d.prefixId] = { id: d.prefixId, tenant, poolId: d.poolId, prefix: d.prefix, createdAt: at };
      c.publicAllocations[d.prefix] = `app:${d.prefixId}`;
      bumpPool(state, d.poolId, 1);
      break;
    }
    case 'ipam.ApplicationPrefixReleased': {
      const a = c.appPrefixes[event.data.prefixId];
      if (!a) break;
      delete c.publicAllocations[a.prefix];
      bumpPool(state, a.poolId, -1);
      delete c.appPrefixes[a.id];
      break;
    }
    case 'ipam.SubnetCreated': {
      const d = event.data;
      const networkId = event.aggregate.id;
      const ranges = poolRanges(d.ipVersion, d.allocationPools);
      const allocated: Record<string, string> = {};
      if (d.gatewayIp !== null) allocated[d.gatewayIp] = 'gateway';
      network(state, networkId).subnets[d.subnetId] = {
        id: d.subnetId,
        tenant,
        networkId,
        name: d.name,
        ipVersion: d.ipVersion,
        cidr: d.cidr,
        gatewayIp: d.gatewayIp,
        allocationPools: d.allocationPools,
        enableDhcp: d.enableDhcp,
        description: d.description ?? '',
        dnsNameservers: d.dnsNameservers ?? [],
        hostRoutes: d.hostRoutes ?? [],
        revision: 1,
        ...ipv6ModesOf(d),
        allocated,
        poolAllocated: d.gatewayIp !== null && inRanges(ranges, parseAddress(d.gatewayIp).value) ? 1 : 0,
        poolSize: rangesSize(ranges).toString(),
        cursor: (ranges[0]?.start ?? 0n).toString(),
        createdAt: at,
        updatedAt: at,
      };
      state.subnetNetwork[d.subnetId] = networkId;
      break;
    }
    case 'ipam.SubnetUpdated': {
      const { subnetId, allocationPools, ...changed } = event.data;
      const s = network(state, event.aggregate.id).subnets[subnetId];
      if (!s) break;
      Object.assign(s, changed, { revision: s.revision + 1, updatedAt: at });
      if (allocationPools) setPools(s, allocationPools);
      break;
    }
    case 'ipam.SubnetDeleted': {
      delete network(state, event.aggregate.id).subnets[event.data.subnetId];
      delete state.subnetNetwork[event.data.subnetId];
      break;
    }
    case 'ipam.PortCreated': {
      const d = event.data;
      const n = network(state, event.aggregate.id);
      n.ports[d.portId] = {
        id: d.portId,
        tenant,
        networkId: event.aggregate.id,
        name: d.name,
        mac: d.mac,
        fixedIps: d.fixedIps,
        hostId: d.hostId,
        deviceId: d.deviceId,
        deviceOwner: d.deviceOwner ?? '',
        adminStateUp: d.adminStateUp ?? true,
        description: d.description ?? '',
        revision: 1,
        ...(d.allowedAddressPairs?.length ? { allowedAddressPairs: d.allowedAddressPairs } : {}),
        createdAt: at,
        updatedAt: at,
      };
      n.macs[d.mac] = d.portId;
      for (const f of d.fixedIps) takeAddress(n, f.subnetId, f.ip, d.portId);
      state.portNetwork[d.portId] = event.aggregate.id;
      break;
    }
    case 'ipam.PortBound': {
      const p = network(state, event.aggregate.id).ports[event.data.portId];
      if (!p) break;
      p.hostId = event.data.hostId;
      p.revision += 1;
      p.updatedAt = at;
      break;
    }
    case 'ipam.PortUpdated': {
      const { portId, fixedIps, allowedAddressPairs, ...changed } = event.data;
      const n = network(state, event.aggregate.id);
      const p = n.ports[portId];
      if (!p) break;
      Object.assign(p, changed, { revision: p.revision + 1, updatedAt: at });
      if (fixedIps) {
        for (const f of fixedIps.released) releaseAddress(n, f.subnetId, f.ip);
        for (const f of fixedIps.allocated) takeAddress(n, f.subnetId, f.ip, p.id);
        p.fixedIps = fixedIps.after;
      }
      if (allowedAddressPairs) setPairs(n, p, allowedAddressPairs);
      break;
    }
    case 'ipam.PortDeleted': {
      const n = network(state, event.aggregate.id);
      const p = n.ports[event.data.portId];
      if (!p) break;
      for (const f of p.fixedIps) releaseAddress(n, f.subnetId, f.ip);
      endOwnerships(n, p.id, undefined);
      delete n.macs[p.mac];
      delete n.ports[p.id];
      delete state.portNetwork[p.id];
      break;
    }
    case 'ipam.PortAllowedAddressPairsSet': {
      const n = network(state, event.aggregate.id);
      const p = n.ports[event.data.portId];
      if (!p) break;
      setPairs(n, p, event.data.allowedAddressPairs);
      p.revision += 1;
      p.updatedAt = at;
      break;
    }
    case 'ipam.AddressPairOwnerChanged': {
      const d = event.data;
      network(state, event.aggregate.id).pairOwners[d.ip] = { portId: d.portId, mac: d.mac };
      break;
    }
    case 'ipam.RouterCreated': {
      const d = event.data;
      state.routers[d.routerId] = {
        id: d.routerId,
        tenant,
        name: d.name,
        description: d.description ?? '',
        routes: d.routes ?? [],
        revision: 1,
        version: event.seq,
        interfaces: {},
        createdAt: at,
        updatedAt: at,
      };
      break;
    }
    case 'ipam.RouterUpdated': {
      const { routerId, ...changed } = event.data;
      const r = state.routers[routerId];
      if (!r) break;
      Object.assign(r, changed, { revision: r.revision + 1, version: event.seq, updatedAt: at });
      break;
    }
    case 'ipam.RouterInterfaceAdded': {
      const r = state.routers[event.data.routerId];
      if (!r) break;
      r.version = event.seq;
      r.revision += 1;
      r.updatedAt = at;
      r.interfaces[event.data.subnetId] = event.data.networkId;
      state.subnetRouter[event.data.subnetId] = r.id;
      break;
    }
    case 'ipam.RouterInterfaceRemoved': {
      const r = state.routers[event.data.routerId];
      if (!r) break;
      r.version = event.seq;
      r.revision += 1;
      r.updatedAt = at;
      delete r.interfaces[event.data.subnetId];
      delete state.subnetRouter[event.data.subnetId];
      break;
    }
    case 'ipam.RouterDeleted':
      delete state.routers[event.data.routerId];
      break;
    case 'ipam.GatewayDeviceCreated': {
      const d = event.data;
      c.gatewayDevices[d.deviceId] = {
        id: d.deviceId,
        name: d.name,
        description: d.description ?? '',
        kind: d.kind,
        vtepIp: d.vtepIp,
        bgp: d.bgp ?? null,
        ovsdb: d.ovsdb ?? null,
        hostId: d.hostId ?? null,
        ports: d.ports,
        createdAt: at,
      };
      break;
    }
    case 'ipam.GatewayDeviceDeleted':
      delete c.gatewayDevices[event.data.deviceId];
      break;
    case 'ipam.GatewayBindingCreated': {
      const d = event.data;
      c.gatewayBindings[d.bindingId] = {
        id: d.bindingId,
        tenant: d.tenant,
        deviceId: d.deviceId,
        port: d.port,
        vlan: d.vlan,
        networkId: d.networkId,
        vni: d.vni,
        description: d.description ?? '',
        revision: 1,
        createdAt: at,
        updatedAt: at,
      };
      c.gatewaySlots[gatewaySlot(d.deviceId, d.port, d.vlan)] = d.bindingId;
      break;
    }
    case 'ipam.GatewayBindingMoved': {
      const d = event.data;
      const b = c.gatewayBindings[d.bindingId];
      if (!b) break;
      delete c.gatewaySlots[gatewaySlot(b.deviceId, b.port, b.vlan)];
      Object.assign(b, { deviceId: d.deviceId, port: d.port, vlan: d.vlan, revision: b.revision + 1, updatedAt: at });
      c.gatewaySlots[gatewaySlot(d.deviceId, d.port, d.vlan)] = d.bindingId;
      break;
    }
    case 'ipam.GatewayBindingDeleted': {
      const b = c.gatewayBindings[event.data.bindingId];
      if (!b) break;
      delete c.gatewaySlots[gatewaySlot(b.deviceId, b.port, b.vlan)];
      delete c.gatewayBindings[b.id];
      break;
    }
    case 'ipam.PhysicalMacLearned': {
      const d = event.data;
      // `??=`: a snapshot written before gateway MACs existed has no map.
      ((c.gatewayMacs ??= {})[d.bindingId] ??= {})[gatewayMacKey(d.mac, d.ip)] = { ...d };
      break;
    }
    case 'ipam.PhysicalMacWithdrawn': {
      const d = event.data;
      const macs = c.gatewayMacs?.[d.bindingId];
      if (!macs) break;
      delete macs[gatewayMacKey(d.mac, d.ip)];
      if (Object.keys(macs).length === 0) delete c.gatewayMacs[d.bindingId];
      break;
    }
    case 'ipam.PeeringSegmentCreated': {
      const d = event.data;
      (c.peeringSegments ??= {})[d.segmentId] = {
        id: d.segmentId,
        tenant,
        name: d.name,
        description: d.description ?? '',
        cidr: d.cidr,
        vni: d.vni,
        grants: [],
        revision: 1,
        createdAt: at,
        updatedAt: at,
      };
      c.vnis[String(d.vni)] = peeringVniHolder(d.segmentId);
      break;
    }
    case 'ipam.PeeringSegmentGranted':
    case 'ipam.PeeringSegmentRevoked': {
      const d = event.data;
      const seg = c.peeringSegments?.[d.segmentId];
      if (!seg) break;
      const others = seg.grants.filter((t) => t !== d.grantee);
      seg.grants = event.type === 'ipam.PeeringSegmentGranted' ? [...others, d.grantee].sort() : others;
      touch(seg, at);
      break;
    }
    case 'ipam.PeeringSegmentDeleted':
      delete c.peeringSegments?.[event.data.segmentId];
      delete c.vnis[String(event.data.vni)];
      break;
    case 'ipam.PeeringAttached': {
      const { vni: _vni, attachmentId, ...d } = event.data;
      (c.peeringAttachments ??= {})[attachmentId] = { id: attachmentId, ...d, tenant, createdAt: at };
      const seg = c.peeringSegments?.[d.segmentId];
      if (seg) touch(seg, at);
      break;
    }
    case 'ipam.PeeringDetached': {
      delete c.peeringAttachments?.[event.data.attachmentId];
      const seg = c.peeringSegments?.[event.data.segmentId];
      if (seg) touch(seg, at);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled IPAM event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

/** Another event that counts in a resource's revision. */
function touch(r: { revision: number; updatedAt: string }, at: string): void {
  r.revision += 1;
  r.updatedAt = at;
}

function network(state: IpamState, id: string): NetworkState {
  let n = state.networks[id];
  if (!n) {
    n = { version: 0, closed: false, subnets: {}, ports: {}, macs: {}, pairOwners: {} };
    state.networks[id] = n;
  }
  return n;
}

/** The port's pairs are now exactly `pairs` (empty: none). */
function setPairs(n: NetworkState, p: PortEntry, pairs: AllowedAddressPair[]): void {
  if (pairs.length) p.allowedAddressPairs = pairs;
  else delete p.allowedAddressPairs;
  endOwnerships(n, p.id, pairs);
}

/** New allocation pools: the pool counts are recomputed from the addresses in use (an update is rare; allocation stays O(1)). */
function setPools(s: SubnetEntry, pools: AllocationPool[]): void {
  const ranges = poolRanges(s.ipVersion, pools);
  s.allocationPools = pools;
  s.poolSize = rangesSize(ranges).toString();
  s.poolAllocated = Object.keys(s.allocated).filter((ip) => inRanges(ranges, parseAddress(ip).value)).length;
  s.cursor = (ranges[0]?.start ?? 0n).toString();
}

/** A port's ownerships its pairs no longer admit end with the change (address-pairs.ts, `ownershipsEnded`). */
function endOwnerships(n: NetworkState, portId: string, pairs: AllowedAddressPair[] | undefined): void {
  for (const ip of ownershipsEnded(n.pairOwners, portId, pairs)) delete n.pairOwners[ip];
}

function bumpPool(state: IpamState, poolId: string, by: number): void {
  const p = state.cloud.pools[poolId];
  if (p) p.allocated += by;
}

function takeAddress(n: NetworkState, subnetId: string, ip: string, portId: string): void {
  const s = n.subnets[subnetId];
  if (!s) return;
  s.allocated[ip] = portId;
  const value = parseAddress(ip).value;
  if (inRanges(poolRanges(s.ipVersion, s.allocationPools), value)) {
    s.poolAllocated += 1;
    s.cursor = (value + 1n).toString();
  }
}

function releaseAddress(n: NetworkState, subnetId: string, ip: string): void {
  const s = n.subnets[subnetId];
  if (!s || s.allocated[ip] === undefined) return;
  delete s.allocated[ip];
  if (inRanges(poolRanges(s.ipVersion, s.allocationPools), parseAddress(ip).value)) s.poolAllocated -= 1;
}

