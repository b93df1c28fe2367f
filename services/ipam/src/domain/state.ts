/**
 * IPAM state: what the event log says exists, indexed for allocation.
 * Plain JSON-serialisable records (no Maps, no bigints) so a snapshot is a
 * JSON document and equality with a full replay is a string comparison.
 */
import type { AllocationPool, AllowedAddressPair, GatewayDeviceView, Ipv6Mode, PairOwner, PeeringAttachmentView, PoolPurpose, Route } from '@strata/contracts';

export interface IpamState {
  /** Last stream sequence applied. */
  seq: number;
  cloud: CloudState;
  networks: Record<string, NetworkState>;
  /** subnetId → networkId and portId → networkId, to find the aggregate of a subnet/port. */
  subnetNetwork: Record<string, string>;
  portNetwork: Record<string, string>;
  routers: Record<string, RouterEntry>;
  /** subnetId → routerId for attached subnets; a subnet joins at most one router. */
  subnetRouter: Record<string, string>;
}

export interface RouterEntry extends Owned, Revised, Timestamped {
  id: string;
  name: string;
  /** Extra routes (Neutron's extraroute). */
  routes: Route[];
  /** Last sequence of the router's aggregate. */
  version: number;
  /** subnetId → networkId of every joined subnet. */
  interfaces: Record<string, string>;
}

export interface CloudState {
  /** Last sequence of the cloud aggregate: the expected version of its next event. */
  version: number;
  networks: Record<string, NetworkEntry>;
  vnis: Record<string, string>; // vni → networkId
  pools: Record<string, PoolEntry>;
  /** Public address (or prefix) → who holds it: `hv:<id>`, `fip:<id>` or `app:<id>`. */
  publicAllocations: Record<string, string>;
  hypervisors: Record<string, HypervisorEntry>;
  vteps: Record<string, string>; // vtep ip → hostId
  floatingIps: Record<string, FloatingIpEntry>;
  appPrefixes: Record<string, AppPrefixEntry>;
  /** Gateway devices and their bindings (contracts ipam/gateway.ts). */
  gatewayDevices: Record<string, GatewayDeviceEntry>;
  gatewayBindings: Record<string, GatewayBindingEntry>;
  /** `gatewaySlot(device, port, vlan)` → bindingId: a (device, port, VLAN) carries at most one network. */
  gatewaySlots: Record<string, string>;
  /** bindingId → `gatewayMacKey(mac, ip)` → what a `host` device learned behind the binding (its agent's reports). */
  gatewayMacs: Record<string, Record<string, GatewayMacEntry>>;
  /**
   * Peering segments and their attachments (contracts ipam/peering.ts).
   * Optional: a snapshot written before peering existed has neither (read
   * them through `peeringOf`).
   */
  peeringSegments?: Record<string, PeeringSegmentEntry>;
  peeringAttachments?: Record<string, PeeringAttachmentEntry>;
}

/** A segment's VNI is in `vnis` too (as `peering:<segmentId>`), so networks and segments never share one. */
export interface PeeringSegmentEntry extends Owned, Revised, Timestamped {
  id: string;
  name: string;
  cidr: string;
  vni: number;
  /** Tenants the owner invited, sorted. */
  grants: string[];
}

/** An attachment as IPAM holds it: exactly what its tenant reads. */
export type PeeringAttachmentEntry = PeeringAttachmentView;

/** The peering maps of a state, empty when a snapshot predates them. */
export const peeringOf = (state: IpamState): { segments: Record<string, PeeringSegmentEntry>; attachments: Record<string, PeeringAttachmentEntry> } => ({
  segments: state.cloud.peeringSegments ?? {},
  attachments: state.cloud.peeringAttachments ?? {},
});

/** What `vnis` holds for a segment's VNI (a network's is its bare id). */
export const peeringVniHolder = (segmentId: string): string => `peering:${segmentId}`;

/** A MAC (with one IP or none) a `host` gateway device learned behind a binding: the data of its `ipam.PhysicalMacLearned`. */
export interface GatewayMacEntry {
  bindingId: string;
  deviceId: string;
  vni: number;
  mac: string;
  ip?: string | undefined;
  vtep: string;
}

export const gatewayMacKey = (mac: string, ip: string | undefined): string => `${mac} ${ip ?? ''}`;

/** A device as IPAM holds it: exactly what an admin reads. */
export type GatewayDeviceEntry = GatewayDeviceView;

/** The binding's tenant is its network's. */
export interface GatewayBindingEntry extends Owned, Revised, Timestamped {
  id: string;
  deviceId: string;
  port: string;
  vlan: number;
  networkId: string;
  vni: number;
}

/** The key of one (device, port, VLAN) in `gatewaySlots` (port names hold no space). */
export const gatewaySlot = (deviceId: string, port: string, vlan: number): string => `${deviceId} ${port} ${vlan}`;

interface Owned {
  tenant: string;
  createdAt: string;
}

/** When the last event that counted in the revision was written (networks, subnets, ports: Neutron's `updated_at`). */
interface Timestamped {
  updatedAt: string;
}

/** What an update names and changes: a description and the revision (1 at creation, +1 per event that changed the resource). */
interface Revised {
  description: string;
  revision: number;
}

export interface NetworkEntry extends Owned, Revised, Timestamped {
  id: string;
  name: string;
  vni: number;
  mtu: number;
  routed: boolean;
  /** The default port security of the network's new ports. */
  portSecurityEnabled: boolean;
  /** Stretched across the federation's zones. */
  federated: boolean;
}

export interface PoolEntry {
  id: string;
  name: string;
  cidr: string;
  purpose: PoolPurpose;
  ipVersion: 4 | 6;
  allocated: number;
  createdAt: string;
}

export interface HypervisorEntry {
  id: string;
  vtepIp: string;
  publicIp: string;
  hostPoolId: string;
  registeredAt: string;
}

export interface FloatingIpEntry extends Owned {
  id: string;
  poolId: string;
  address: string;
  description: string;
}

export interface AppPrefixEntry extends Owned {
  id: string;
  poolId: string;
  prefix: string;
}

export interface NetworkState {
  /** Last sequence of this network's aggregate (0: no events yet). */
  version: number;
  /** Closed by the first step of deletion: no new subnets or ports. */
  closed: boolean;
  subnets: Record<string, SubnetEntry>;
  ports: Record<string, PortEntry>;
  macs: Record<string, string>; // mac → portId
  /** Pair address → its current owner (the port whose gratuitous ARP for it was last accepted). */
  pairOwners: Record<string, PairOwner>;
}

export interface SubnetEntry extends Owned, Revised, Timestamped {
  id: string;
  networkId: string;
  name: string;
  ipVersion: 4 | 6;
  cidr: string;
  gatewayIp: string | null;
  allocationPools: AllocationPool[];
  enableDhcp: boolean;
  dnsNameservers: string[];
  hostRoutes: Route[];
  /** IPv6 modes (contracts ipam/ipv6-modes.ts); null: not set. */
  ipv6RaMode: Ipv6Mode | null;
  ipv6AddressMode: Ipv6Mode | null;
  /** Address → portId for every address in use on this subnet. */
  allocated: Record<string, string>;
  /** How many of `allocated` lie inside the allocation pools: exhaustion without a scan. */
  poolAllocated: number;
  /** Pool capacity as a decimal string (IPv6 pools exceed 2^53). */
  poolSize: string;
  /** Where the next automatic allocation starts looking (decimal string), so it does not rescan from the start. */
  cursor: string;
}

export interface PortEntry extends Owned, Revised, Timestamped {
  id: string;
  networkId: string;
  name: string;
  mac: string;
  fixedIps: { subnetId: string; ip: string }[];
  hostId: string | null;
  deviceId: string;
  deviceOwner: string;
  adminStateUp: boolean;
  /** Left out when none. */
  allowedAddressPairs?: AllowedAddressPair[];
}

export function initialState(): IpamState {
  return {
    seq: 0,
    cloud: {
      version: 0,
      networks: {},
      vnis: {},
      pools: {},
      publicAllocations: {},
      hypervisors: {},
      vteps: {},
      floatingIps: {},
      appPrefixes: {},
      gatewayDevices: {},
      gatewayBindings: {},
      gatewaySlots: {},
      gatewayMacs: {},
      peeringSegments: {},
      peeringAttachments: {},
    },
    networks: {},
    subnetNetwork: {},
    portNetwork: {},
    routers: {},
    subnetRouter: {},
  };
}
