/**
 * The BGP gateway's state: its own configuration and recorded routes (from
 * its events), plus the read model of IPAM and NAT it derives
 * advertisements and appliance neighbours from. Plain JSON-serialisable
 * records, so equality with a full replay is a digest comparison.
 */
import type { Damping } from './damping.js';
import type { PhysicalVtep, ZoneMac } from '@strata/contracts';
import type { ApplianceAssignmentView, BgpPeerGroupView, BgpPeerView, FollowedPort, FollowedPorts, RejectReason, RemoteZoneView, RouteStatus } from '@strata/contracts';

export interface BgpState {
  /** Last stream sequence seen (the projection reads the whole domain stream). */
  seq: number;
  config: BgpConfig;
  /**
   * routeAggregateId(peer, prefix) → what an appliance announces and the
   * import policy accepts, as recorded (with its flap damping). A withdrawn
   * route keeps its entry (version and damping: the next change is decided
   * against them); entries exist only inside the prefixes assigned to
   * appliances, so they are bounded by the configuration, not by what
   * appliances send.
   */
  routes: Record<string, RouteEntry>;
  /** sessionLimitId(gateway, peer) → the last time that gateway's engine stopped the appliance's session at its prefix limit. */
  sessionLimits: Record<string, SessionLimitEntry>;
  /**
   * physicalMacId / physicalVtepId → what an `evpn` switch announces for a VNI
   * bound on it, as recorded (domain/decide/physical.ts). A withdrawn record
   * keeps its entry (its version: the next change is decided against it).
   */
  physical: Record<string, PhysicalEntry>;
  fabric: FabricModel;
}

export type PhysicalEntry = { id: string; version: number; learned: boolean; tenant: string } & ({ kind: 'mac'; data: ZoneMac } | { kind: 'vtep'; data: PhysicalVtep });

export interface BgpConfig {
  /** Last sequence of the `bgp.config.default` aggregate; 0: never written. */
  version: number;
  settings: { localAs: number; routerId: string; listenPort: number } | null;
  peers: Record<string, PeerEntry>;
  groups: Record<string, PeerGroupEntry>;
  /** Application prefix id → the appliance (device id) that may announce it. */
  assignments: Record<string, AssignmentEntry>;
  /** The zone's federation (docs/architecture.md, "Availability zones"); null: in none. */
  federation: Federation | null;
  /** FederationSet/Cleared events so far (the view's revision). */
  federationRevision: number;
}

export interface Federation {
  localZone: { name: string; id: number };
  /** The IBGP AS of the route reflectors and of this zone's sessions to them; route targets are `<federationAs>:<VNI>`. */
  federationAs: number;
  routeReflectors: { address: string; passwordRef: string | null }[];
  zones: RemoteZoneView[];
}

/** Configuration entries are stored as the views show them. */
export type PeerEntry = BgpPeerView;

export type PeerGroupEntry = BgpPeerGroupView;

export type AssignmentEntry = ApplianceAssignmentView;

export interface RouteEntry {
  id: string;
  /** Last sequence of the route's aggregate. */
  version: number;
  peer: string;
  prefix: string;
  /** null: withdrawn (the aggregate exists, the route does not). */
  status: RouteStatus | null;
  nextHop: string;
  asPath: number[];
  reason: RejectReason | null;
  deviceId: string | null;
  since: string;
  /** RFC 2439 damping, advanced by every recorded change (domain/damping.ts). */
  damping: Damping;
}

export interface SessionLimitEntry {
  version: number;
  gateway: string;
  peer: string;
  /** Times this gateway's engine stopped the session at its limit (the backoff before re-enabling grows with it). */
  trips: number;
  at: string;
}

/** What IPAM and NAT say about the virtual world, as far as advertisements need it. */
export interface FabricModel {
  /** hostId → VTEP (underlay) address: the next hop of everything on that host. */
  hypervisors: Record<string, string>;
  /** hostId → H-IP: the hypervisor's public address, the source of its ports' PNAT traffic. */
  hostIps: Record<string, string>;
  /**
   * `federated`: stretched across the federation's zones; `foreignVni`: its
   * VNI is outside this zone's IPAM range (it joined another zone's segment).
   */
  networks: Record<string, { routed: boolean; tenant: string; vni: number; federated: boolean; foreignVni: boolean }>;
  /** `createdSeq`: the stream position of the subnet's creation (the earliest claim of a routed prefix keeps it). */
  subnets: Record<string, { networkId: string; cidr: string; createdSeq: number }>;
  /** IPAM's ports, folded by the shared port lifecycle (@strata/contracts, ipam/port-lifecycle.ts). */
  ports: FollowedPorts;
  /** IPAM's `routed` pools: id → CIDR, the operator's routed address space (only what lies inside is originated). */
  routedPools: Record<string, string>;
  /** IPAM application prefixes: id → prefix and owner. */
  appPrefixes: Record<string, { prefix: string; tenant: string }>;
  /**
   * secgroup's groups with a federation tag: id → tenant and tag (the tags a
   * port's federated routes carry, domain/federation.ts). Untagged groups are
   * not kept.
   */
  taggedGroups: Record<string, { tenant: string; tag: number }>;
  /** secgroup's memberships: port id → the groups it lists (ports in no group are not kept). */
  portGroups: Record<string, string[]>;
  /** NAT associations: floating IP id → public address and port. */
  floatingIps: Record<string, { address: string; portId: string }>;
  /** IPAM's gateway devices, as far as EVPN needs them: the switch's VTEP and, for `evpn`, where and with which AS to peer. */
  gatewayDevices: Record<string, { kind: 'evpn' | 'ovsdb' | 'host'; vtepIp: string; bgp: { address: string; remoteAs: number } | null }>;
  /** IPAM's gateway bindings: which device carries which network (VNI), owned by the network's tenant. */
  bindings: Record<string, { deviceId: string; networkId: string; vni: number; tenant: string }>;
}

/** A port as the gateway knows it: IPAM's, as its events describe it (`createdSeq`: the earliest claim of an address keeps its neighbour, neighbours.ts). */
export type PortEntry = FollowedPort;

export function initialState(): BgpState {
  return {
    seq: 0,
    config: { version: 0, settings: null, peers: {}, groups: {}, assignments: {}, federation: null, federationRevision: 0 },
    routes: {},
    sessionLimits: {},
    physical: {},
    fabric: { hypervisors: {}, hostIps: {}, networks: {}, subnets: {}, ports: {}, routedPools: {}, appPrefixes: {}, taggedGroups: {}, portGroups: {}, floatingIps: {}, gatewayDevices: {}, bindings: {} },
  };
}
