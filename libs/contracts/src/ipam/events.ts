/**
 * IPAM's events: the published language other services (and the per-host
 * derivation for agents) consume. Two aggregate kinds:
 *
 *   ipam.cloud.default   the cloud-wide allocation domain: networks and their
 *                        VNIs, public pools, hypervisors and their H-IPs,
 *                        floating IPs, application prefixes. A singleton so
 *                        that every VNI/address it hands out is checked
 *                        against one version (optimistic concurrency).
 *   ipam.network.<id>    one network's subnets and ports: the busy part, so
 *                        each network is its own consistency boundary and
 *                        port creation in different networks never contends.
 *   ipam.router.<id>     a tenant router and the subnets it joins (its
 *                        routing domain: their CIDRs must not overlap).
 *
 * Gateway devices and bindings (gateway.ts) are on ipam.cloud.default: a
 * binding is decided against the same version as its network's existence,
 * its device's ports and every other binding of the device.
 *
 * Peering segments and their attachments (peering.ts) are on
 * ipam.cloud.default too: a segment's VNI comes from the networks' pool, and
 * an attachment is decided against one version of the segment, its grants
 * and every other attachment (addresses, MACs, overlapping prefixes).
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { PoolPurpose } from './views.js';
import { Ipv6Mode } from './ipv6-modes.js';
import { GatewayDeviceKind } from './gateway.js';
import { PhysicalMac } from '../physical.js';

const Ip = z.string();
const AllocationPool = z.object({ start: Ip, end: Ip });
const FixedIp = z.object({ subnetId: z.string(), ip: Ip });
/** An allowed address pair as recorded: an address or CIDR and the MAC it may be used with (always explicit). */
const AllowedAddressPair = z.object({ ipAddress: z.string(), macAddress: z.string() });
/** A static route: a subnet's host route or a router's extra route. */
const Route = z.object({ destination: z.string(), nexthop: Ip });
/**
 * Fields added to a creation event after it was first defined are optional
 * and left out at their default ('' / [] / true), so older events and newer
 * ones without them read alike (no version bump, no upcaster).
 */
const Description = z.string().optional();

export const NetworkCreated = defineEvent({
  type: 'ipam.NetworkCreated',
  version: 1,
  schema: z.object({
    networkId: z.string(),
    name: z.string(),
    vni: z.number().int(),
    mtu: z.number().int(),
    routed: z.boolean(),
    description: Description,
    /** The default port security of the network's new ports; left out when true. */
    portSecurityEnabled: z.boolean().optional(),
    /** Stretched across the federation's zones; left out when false. */
    federated: z.boolean().optional(),
    /** The admin chose a VNI outside this zone's range (another zone's segment this network joins); left out otherwise. */
    foreignVni: z.boolean().optional(),
  }),
});

/**
 * A network's mutable fields changed (`network.update`); only those that
 * changed are present, each with its new value. On the network's own
 * aggregate (ipam.network.<id>), so it is decided against the same version
 * as the network's closing.
 */
export const NetworkUpdated = defineEvent({
  type: 'ipam.NetworkUpdated',
  version: 1,
  schema: z.object({
    networkId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    mtu: z.number().int().optional(),
    portSecurityEnabled: z.boolean().optional(),
    federated: z.boolean().optional(),
  }),
});

export const NetworkDeleted = defineEvent({
  type: 'ipam.NetworkDeleted',
  version: 1,
  schema: z.object({ networkId: z.string(), vni: z.number().int() }),
});

export const PoolCreated = defineEvent({
  type: 'ipam.PoolCreated',
  version: 1,
  schema: z.object({ poolId: z.string(), name: z.string(), cidr: z.string(), purpose: z.enum(PoolPurpose) }),
});

export const PoolDeleted = defineEvent({
  type: 'ipam.PoolDeleted',
  version: 1,
  schema: z.object({ poolId: z.string() }),
});

export const HypervisorRegistered = defineEvent({
  type: 'ipam.HypervisorRegistered',
  version: 1,
  schema: z.object({ hostId: z.string(), vtepIp: Ip, publicIp: Ip, hostPoolId: z.string() }),
});

export const HypervisorDeregistered = defineEvent({
  type: 'ipam.HypervisorDeregistered',
  version: 1,
  schema: z.object({ hostId: z.string(), publicIp: Ip }),
});

export const FloatingIpAllocated = defineEvent({
  type: 'ipam.FloatingIpAllocated',
  version: 1,
  /** `description`: free text (Neutron's), left out when empty (older events too). */
  schema: z.object({ floatingIpId: z.string(), poolId: z.string(), address: Ip, description: z.string().optional() }),
});

export const FloatingIpReleased = defineEvent({
  type: 'ipam.FloatingIpReleased',
  version: 1,
  schema: z.object({ floatingIpId: z.string(), address: Ip }),
});

export const ApplicationPrefixAllocated = defineEvent({
  type: 'ipam.ApplicationPrefixAllocated',
  version: 1,
  schema: z.object({ prefixId: z.string(), poolId: z.string(), prefix: z.string() }),
});

export const ApplicationPrefixReleased = defineEvent({
  type: 'ipam.ApplicationPrefixReleased',
  version: 1,
  schema: z.object({ prefixId: z.string(), prefix: z.string() }),
});

export const SubnetCreated = defineEvent({
  type: 'ipam.SubnetCreated',
  version: 1,
  schema: z.object({
    subnetId: z.string(),
    name: z.string(),
    ipVersion: z.union([z.literal(4), z.literal(6)]),
    cidr: z.string(),
    gatewayIp: Ip.nullable(),
    allocationPools: z.array(AllocationPool),
    enableDhcp: z.boolean(),
    description: Description,
    dnsNameservers: z.array(Ip).optional(),
    hostRoutes: z.array(Route).optional(),
    /** IPv6 modes (ipv6-modes.ts); each left out when not set, so older events read alike. */
    ipv6RaMode: Ipv6Mode.optional(),
    ipv6AddressMode: Ipv6Mode.optional(),
  }),
});

/** A subnet's mutable fields changed (`subnet.update`): only those that changed are present, each with its new value (a list replaces the list). */
export const SubnetUpdated = defineEvent({
  type: 'ipam.SubnetUpdated',
  version: 1,
  schema: z.object({
    subnetId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    allocationPools: z.array(AllocationPool).optional(),
    enableDhcp: z.boolean().optional(),
    dnsNameservers: z.array(Ip).optional(),
    hostRoutes: z.array(Route).optional(),
  }),
});

export const SubnetDeleted = defineEvent({
  type: 'ipam.SubnetDeleted',
  version: 1,
  schema: z.object({ subnetId: z.string() }),
});

export const PortCreated = defineEvent({
  type: 'ipam.PortCreated',
  version: 1,
  schema: z.object({
    portId: z.string(),
    name: z.string(),
    mac: z.string(),
    fixedIps: z.array(FixedIp),
    hostId: z.string().nullable(),
    deviceId: z.string(),
    /** Left out when '' (nothing said). */
    deviceOwner: z.string().optional(),
    /** Left out when the port was created without any (so older events and newer ones without pairs read alike). */
    allowedAddressPairs: z.array(AllowedAddressPair).optional(),
    description: Description,
    /** Left out when up (true). */
    adminStateUp: z.boolean().optional(),
  }),
});

/**
 * A port's mutable fields changed (`port.update`, and `port.setAllowedAddressPairs`
 * which is its alias): only those that changed are present, each with its
 * new value. One event per update, so the change is atomic and counts once
 * in the port's revision. Part of the shared port lifecycle (port-lifecycle.ts):
 * every follower of ports sees moved addresses, pairs, admin state.
 */
export const PortUpdated = defineEvent({
  type: 'ipam.PortUpdated',
  version: 1,
  schema: z.object({
    portId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    adminStateUp: z.boolean().optional(),
    deviceId: z.string().optional(),
    deviceOwner: z.string().optional(),
    /** The port's addresses changed: the whole new list, and what the change released to and took from the subnets' pools. */
    fixedIps: z
      .object({
        before: z.array(FixedIp),
        after: z.array(FixedIp),
        released: z.array(FixedIp),
        allocated: z.array(FixedIp),
      })
      .optional(),
    /** The whole new list (empty: none). */
    allowedAddressPairs: z.array(AllowedAddressPair).optional(),
  }),
});

/** The port's allowed address pairs are now exactly these (empty: none). */
export const PortAllowedAddressPairsSet = defineEvent({
  type: 'ipam.PortAllowedAddressPairsSet',
  version: 1,
  schema: z.object({ portId: z.string(), allowedAddressPairs: z.array(AllowedAddressPair) }),
});

/**
 * The owner of one pair address of a network changed: the port's host saw its
 * gratuitous ARP for the address (`observedBy`, the reporting agent's host).
 * On the network's aggregate, so it is decided against the same version as
 * the port's pairs, binding and existence (docs/architecture.md, "IPAM").
 */
export const AddressPairOwnerChanged = defineEvent({
  type: 'ipam.AddressPairOwnerChanged',
  version: 1,
  schema: z.object({
    networkId: z.string(),
    ip: Ip,
    portId: z.string(),
    mac: z.string(),
    /** The owner it replaces; null: the address had none. */
    previousPortId: z.string().nullable(),
    observedBy: z.string(),
  }),
});

export const PortBound = defineEvent({
  type: 'ipam.PortBound',
  version: 1,
  schema: z.object({ portId: z.string(), hostId: z.string().nullable(), previousHostId: z.string().nullable() }),
});

export const PortDeleted = defineEvent({
  type: 'ipam.PortDeleted',
  version: 1,
  schema: z.object({ portId: z.string(), releasedIps: z.array(FixedIp) }),
});

/** First step of deleting a network: closes it to new subnets/ports under the network's own version. */
export const NetworkClosed = defineEvent({
  type: 'ipam.NetworkClosed',
  version: 1,
  schema: z.object({ networkId: z.string() }),
});

export const RouterCreated = defineEvent({
  type: 'ipam.RouterCreated',
  version: 1,
  schema: z.object({ routerId: z.string(), name: z.string(), description: Description, routes: z.array(Route).optional() }),
});

/** A router's mutable fields changed (`router.update`): only those that changed are present; `routes` replaces the list. */
export const RouterUpdated = defineEvent({
  type: 'ipam.RouterUpdated',
  version: 1,
  schema: z.object({
    routerId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    routes: z.array(Route).optional(),
  }),
});

export const RouterInterfaceAdded = defineEvent({
  type: 'ipam.RouterInterfaceAdded',
  version: 1,
  schema: z.object({ routerId: z.string(), subnetId: z.string(), networkId: z.string() }),
});

export const RouterInterfaceRemoved = defineEvent({
  type: 'ipam.RouterInterfaceRemoved',
  version: 1,
  schema: z.object({ routerId: z.string(), subnetId: z.string(), networkId: z.string() }),
});

export const RouterDeleted = defineEvent({
  type: 'ipam.RouterDeleted',
  version: 1,
  schema: z.object({ routerId: z.string() }),
});

const GatewayKind = z.enum(GatewayDeviceKind);

/**
 * A gateway device (gateway.ts) was created. `vtepIp`: where hypervisors
 * tunnel to (a `host` device: its hypervisor's VTEP). `bgp` only for `evpn`,
 * `ovsdb` only for `ovsdb`, `hostId` only for `host`. `ports[].tenant`: the
 * one tenant a port is granted to (null: admin only).
 */
export const GatewayDeviceCreated = defineEvent({
  type: 'ipam.GatewayDeviceCreated',
  version: 1,
  schema: z.object({
    deviceId: z.string(),
    name: z.string(),
    description: Description,
    kind: GatewayKind,
    vtepIp: Ip,
    bgp: z.object({ address: Ip, remoteAs: z.number().int() }).optional(),
    ovsdb: z.object({ target: z.string() }).optional(),
    hostId: z.string().optional(),
    ports: z.array(z.object({ name: z.string(), tenant: z.string().nullable() })),
  }),
});

export const GatewayDeviceDeleted = defineEvent({
  type: 'ipam.GatewayDeviceDeleted',
  version: 1,
  schema: z.object({ deviceId: z.string(), kind: GatewayKind, vtepIp: Ip, hostId: z.string().optional() }),
});

/** What every binding event says: the binding, its network's tenant and VNI, and where it is (device, port, VLAN). */
const BindingPlace = { deviceId: z.string(), port: z.string(), vlan: z.number().int() };
const Binding = { bindingId: z.string(), tenant: z.string(), networkId: z.string(), vni: z.number().int(), ...BindingPlace };

/** One VLAN of one port of a device now carries the network (its VNI). */
export const GatewayBindingCreated = defineEvent({
  type: 'ipam.GatewayBindingCreated',
  version: 1,
  schema: z.object({ ...Binding, description: Description }),
});

/** The binding now is at (deviceId, port, vlan); it was at `previous`. The network stays. */
export const GatewayBindingMoved = defineEvent({
  type: 'ipam.GatewayBindingMoved',
  version: 1,
  schema: z.object({ ...Binding, previous: z.object(BindingPlace) }),
});

export const GatewayBindingDeleted = defineEvent({
  type: 'ipam.GatewayBindingDeleted',
  version: 1,
  schema: z.object(Binding),
});

/**
 * A `host` gateway device (a hypervisor bridging a trunk VLAN into the
 * binding's network) learned (or lost) a MAC, with one of its IPs or none,
 * behind the binding's VLAN: its agent's report (observations.ts
 * `GatewayMacsObservation`). The shared PhysicalMac schema (vtep = the
 * host's), so hostview folds it as it folds a switch's; `bindingId` names
 * the binding it was learned on, so it is withdrawn when the binding goes
 * or moves. On ipam.cloud.default, decided against the binding.
 */
const GatewayMac = PhysicalMac.extend({ bindingId: z.string() });
export const GatewayMacLearned = defineEvent({ type: 'ipam.PhysicalMacLearned', version: 1, schema: GatewayMac });
export const GatewayMacWithdrawn = defineEvent({ type: 'ipam.PhysicalMacWithdrawn', version: 1, schema: GatewayMac });

/** A tenant (the event's tenant: the owner) created a peering segment: its transit subnet and the VNI IPAM gave it. */
export const PeeringSegmentCreated = defineEvent({
  type: 'ipam.PeeringSegmentCreated',
  version: 1,
  schema: z.object({ segmentId: z.string(), name: z.string(), description: Description, cidr: z.string(), vni: z.number().int() }),
});

/** The owner invited (granted) or stopped inviting (revoked) `grantee` to attach its routers. */
const Grant = z.object({ segmentId: z.string(), grantee: z.string() });
export const PeeringSegmentGranted = defineEvent({ type: 'ipam.PeeringSegmentGranted', version: 1, schema: Grant });
export const PeeringSegmentRevoked = defineEvent({ type: 'ipam.PeeringSegmentRevoked', version: 1, schema: Grant });

/** The segment is gone (no router was attached) and its VNI free. */
export const PeeringSegmentDeleted = defineEvent({
  type: 'ipam.PeeringSegmentDeleted',
  version: 1,
  schema: z.object({ segmentId: z.string(), vni: z.number().int() }),
});

/** A router (the event's tenant: the router's) on a segment, with its transit address and MAC there. */
const Attachment = z.object({ attachmentId: z.string(), segmentId: z.string(), vni: z.number().int(), routerId: z.string(), ip: Ip, mac: z.string() });
export const PeeringAttached = defineEvent({ type: 'ipam.PeeringAttached', version: 1, schema: Attachment });
export const PeeringDetached = defineEvent({ type: 'ipam.PeeringDetached', version: 1, schema: Attachment });

export const ipamEvents = new EventRegistry([
  NetworkCreated,
  NetworkUpdated,
  NetworkDeleted,
  PoolCreated,
  PoolDeleted,
  HypervisorRegistered,
  HypervisorDeregistered,
  FloatingIpAllocated,
  FloatingIpReleased,
  ApplicationPrefixAllocated,
  ApplicationPrefixReleased,
  SubnetCreated,
  SubnetUpdated,
  SubnetDeleted,
  PortCreated,
  PortUpdated,
  PortBound,
  PortDeleted,
  PortAllowedAddressPairsSet,
  AddressPairOwnerChanged,
  NetworkClosed,
  RouterCreated,
  RouterUpdated,
  RouterInterfaceAdded,
  RouterInterfaceRemoved,
  RouterDeleted,
  GatewayDeviceCreated,
  GatewayDeviceDeleted,
  GatewayBindingCreated,
  GatewayBindingMoved,
  GatewayBindingDeleted,
  GatewayMacLearned,
  GatewayMacWithdrawn,
  PeeringSegmentCreated,
  PeeringSegmentGranted,
  PeeringSegmentRevoked,
  PeeringSegmentDeleted,
  PeeringAttached,
  PeeringDetached,
] as const);

export type IpamEvent = ReturnType<typeof ipamEvents.decode>;
export const IPAM_CONTEXT = 'ipam';
export const CLOUD_AGGREGATE = { context: IPAM_CONTEXT, type: 'cloud', id: 'default' } as const;
export const networkAggregate = (id: string) => ({ context: IPAM_CONTEXT, type: 'network', id }) as const;
export const routerAggregate = (id: string) => ({ context: IPAM_CONTEXT, type: 'router', id }) as const;
