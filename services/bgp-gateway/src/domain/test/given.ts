/** A BgpState built directly (it is plain JSON), for the pure functions' unit tests. */
import { routeAggregateId } from '@strata/contracts';
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import { UNDAMPED } from '../damping.js';
import { initialState, type BgpState, type RouteEntry } from '../state.js';

export const T0 = '2026-01-01T00:00:00.000Z';

export class Given {
  readonly state: BgpState = initialState();

  constructor() {
    this.state.config.settings = { localAs: 65000, routerId: '198.18.0.2', listenPort: 179 };
  }

  host(id: string, vtep: string): this {
    this.state.fabric.hypervisors[id] = vtep;
    return this;
  }

  private claims = 0;

  network(id: string, routed: boolean, ...subnets: [string, string][]): this {
    return this.tenantNetwork('t', id, routed, ...subnets);
  }

  tenantNetwork(tenant: string, id: string, routed: boolean, ...subnets: [string, string][]): this {
    this.state.fabric.networks[id] = { routed, tenant, vni: 1000 + Object.keys(this.state.fabric.networks).length, federated: false, foreignVni: false };
    for (const [sid, cidr] of subnets) this.state.fabric.subnets[sid] = { networkId: id, cidr, createdSeq: ++this.claims };
    return this;
  }

  /** IPAM `routed` pools: the routed address space routed subnets are advertised from. */
  routedPools(...cidrs: string[]): this {
    for (const cidr of cidrs) this.state.fabric.routedPools[`pool-${cidr}`] = cidr;
    return this;
  }

  /** A port whose addresses are in the network's subnets containing them (as IPAM assigns them). */
  port(id: string, networkId: string, hostId: string | null, ips: string[], deviceId = '', mac = ''): this {
    const tenant = this.state.fabric.networks[networkId]?.tenant ?? 't';
    const subnetOf = (ip: string): string =>
      Object.entries(this.state.fabric.subnets).find(([, s]) => s.networkId === networkId && contains(parsePrefix(s.cidr), parseAddress(ip)))?.[0] ?? '';
    this.state.fabric.ports[id] = { id, tenant, networkId, mac, deviceId, fixedIps: ips.map((ip) => ({ subnetId: subnetOf(ip), ip })), hostId, createdSeq: ++this.claims };
    return this;
  }

  /** An `evpn` gateway device: its VTEP, peering address and AS. */
  evpnDevice(id: string, vtepIp: string, address: string, remoteAs: number): this {
    this.state.fabric.gatewayDevices[id] = { kind: 'evpn', vtepIp, bgp: { address, remoteAs } };
    return this;
  }

  /** A binding of the network (its VNI) on a device. */
  bind(bindingId: string, deviceId: string, networkId: string): this {
    const n = this.state.fabric.networks[networkId]!;
    this.state.fabric.bindings[bindingId] = { deviceId, networkId, vni: n.vni, tenant: n.tenant };
    return this;
  }

  /** Stretch a network across the federation, optionally on another zone's VNI (joined: outside this zone's range). */
  federated(networkId: string, vni?: number): this {
    const n = this.state.fabric.networks[networkId]!;
    n.federated = true;
    if (vni !== undefined) Object.assign(n, { vni, foreignVni: true });
    return this;
  }

  /** This zone `az1` (number 1) in federation AS 65500, with the given remote zones. */
  federation(...zones: { name: string; id: number; vtepPrefixes: string[]; vniRanges: { min: number; max: number }[]; maxRoutes?: number }[]): this {
    this.state.config.federation = {
      localZone: { name: 'az1', id: 1 },
      federationAs: 65500,
      routeReflectors: [{ address: '198.18.0.100', passwordRef: 'rr' }],
      zones: zones.map((z) => ({ maxRoutes: 100, ...z })),
    };
    return this;
  }

  fip(id: string, address: string, portId: string): this {
    this.state.fabric.floatingIps[id] = { address, portId };
    return this;
  }

  group(id: string, listenRange: string, maxPrefixes = 2, sendDefault = false): this {
    this.state.config.groups[id] = { id, name: id, listenRange, remoteAs: 65100, passwordRef: null, maxPrefixes, sendDefault, createdAt: T0, revision: 1 };
    return this;
  }

  peer(id: string, address: string): this {
    this.state.config.peers[id] = { id, name: id, address, remoteAs: 65001, passwordRef: null, createdAt: T0, revision: 1 };
    return this;
  }

  assign(prefixId: string, prefix: string, deviceId: string, tenant = 't'): this {
    this.state.fabric.appPrefixes[prefixId] = { prefix, tenant };
    this.state.config.assignments[prefixId] = { prefixId, prefix, deviceId, tenant, assignedAt: T0 };
    return this;
  }

  route(peer: string, prefix: string, fields: Partial<RouteEntry> = {}): this {
    const id = routeAggregateId(peer, prefix);
    this.state.routes[id] = { id, version: 10, peer, prefix, status: 'learned', nextHop: peer, asPath: [65100], reason: null, deviceId: null, since: T0, damping: UNDAMPED, ...fields };
    return this;
  }
}

export const given = (): Given => new Given();
