/** What IPAM queries return: plain values, the same shape the gRPC API exposes. */
import type { AllowedAddressPair } from './address-pairs.js';
import type { Ipv6Mode } from './ipv6-modes.js';

export interface NetworkView {
  id: string;
  tenant: string;
  name: string;
  vni: number;
  mtu: number;
  /** Routed networks have their subnets advertised to the fabric (no NAT). */
  routed: boolean;
  /** The port security (anti-spoofing) a new port of this network gets unless its creation says otherwise (Neutron's network `port_security_enabled`). */
  portSecurityEnabled: boolean;
  /** Stretched across the zones of this zone's federation (docs/architecture.md, "Availability zones"). */
  federated: boolean;
  description: string;
  /** 1 at creation, +1 for every event that changed the network (docs/architecture.md, "IPAM"). */
  revision: number;
  createdAt: string;
  /** When the last event that counted in `revision` was written (= createdAt until the first change). */
  updatedAt: string;
}

export interface AllocationPool {
  start: string;
  end: string;
}

export interface SubnetView {
  id: string;
  tenant: string;
  networkId: string;
  name: string;
  ipVersion: 4 | 6;
  cidr: string;
  gatewayIp: string | null;
  allocationPools: AllocationPool[];
  enableDhcp: boolean;
  description: string;
  /** DNS servers the subnet's DHCP hands out (addresses of the subnet's IP version); empty: none. */
  dnsNameservers: string[];
  /** Static routes the subnet's DHCP hands out (nexthop inside the subnet). */
  hostRoutes: Route[];
  revision: number;
  /** IPv6 router advertisement and address modes (ipv6-modes.ts); null: not set (always for IPv4). */
  ipv6RaMode: Ipv6Mode | null;
  ipv6AddressMode: Ipv6Mode | null;
  createdAt: string;
  /** When the last event that counted in `revision` was written. */
  updatedAt: string;
}

/** A static route: a destination CIDR and the next hop for it (a subnet's host route, a router's extra route). */
export interface Route {
  destination: string;
  nexthop: string;
}

export interface FixedIp {
  subnetId: string;
  ip: string;
}

export interface PortView {
  id: string;
  tenant: string;
  networkId: string;
  name: string;
  mac: string;
  fixedIps: FixedIp[];
  /** Hypervisor the port is bound to; null while unbound. */
  hostId: string | null;
  deviceId: string;
  /** What uses the port (Neutron's `device_owner`: `compute:nova`, `network:router_interface`, …); '' when nothing was said. Free text to Strata. */
  deviceOwner: string;
  /** Addresses or CIDRs the port may also use, each with its MAC (IPAM fills in the port's own). */
  allowedAddressPairs: AllowedAddressPair[];
  /** Pair addresses this port currently owns (its gratuitous ARP for them was the last accepted), sorted. */
  ownedAddresses: string[];
  description: string;
  /** False: the port is administratively down (no traffic), as Neutron's `admin_state_up`. */
  adminStateUp: boolean;
  /** Counts the port's configuration events (creation, binding, updates); pair ownership (runtime) does not count. */
  revision: number;
  createdAt: string;
  /** When the last event that counted in `revision` was written. */
  updatedAt: string;
}

export interface HypervisorView {
  id: string;
  /** Underlay address: the VTEP and BGP next hop of this host. */
  vtepIp: string;
  /** H-IP: this host's public address for distributed outbound PNAT. */
  publicIp: string;
  hostPoolId: string;
  registeredAt: string;
}

/** `routed`: the operator's routed address space (routed networks' subnets must lie inside one; docs/architecture.md, "IPAM"). */
export const PoolPurpose = ['floating-ip', 'host-ip', 'application-prefix', 'routed'] as const;
export type PoolPurpose = (typeof PoolPurpose)[number];

export interface PoolView {
  id: string;
  name: string;
  cidr: string;
  purpose: PoolPurpose;
  ipVersion: 4 | 6;
  /** Addresses (or prefixes) handed out from this pool. */
  allocated: number;
  createdAt: string;
}

export interface FloatingIpView {
  id: string;
  tenant: string;
  poolId: string;
  address: string;
  /** Free text given at allocation ('' when none). */
  description: string;
  createdAt: string;
}

export interface ApplicationPrefixView {
  id: string;
  tenant: string;
  poolId: string;
  prefix: string;
  createdAt: string;
}

export interface RouterInterfaceView {
  subnetId: string;
  networkId: string;
}

/** A tenant router: routing between its subnets is distributed to every host with a port in them. */
export interface RouterView {
  id: string;
  tenant: string;
  name: string;
  interfaces: RouterInterfaceView[];
  description: string;
  /** Extra routes (Neutron's extraroute): each nexthop is inside one of the router's subnets. */
  routes: Route[];
  /** Counts creation, interface changes and updates. */
  revision: number;
  createdAt: string;
  /** When the last event that counted in `revision` was written. */
  updatedAt: string;
}
