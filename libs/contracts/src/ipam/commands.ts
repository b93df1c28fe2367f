/**
 * IPAM's request schemas, one per operation; contract.ts ties each to its
 * operation, subject and reply. The API and the CLI build on exactly these
 * shapes.
 */
import { z } from 'zod';
import {
  MAX_ALLOCATION_POOLS,
  MAX_ALLOWED_ADDRESS_PAIRS,
  MAX_DEVICE_ID_LENGTH,
  MAX_DEVICE_OWNER_LENGTH,
  MAX_DNS_NAMESERVERS,
  MAX_FIXED_IPS_PER_PORT,
  MAX_HOST_ROUTES,
  MAX_NAME_LENGTH,
  MAX_ROUTER_ROUTES,
} from '../bounds.js';
import { Cidr, DisplayName, HostId, Id, IpAddress, ListOptions, MacAddress, TenantId } from '../common.js';
import { PairAddress } from './address-pairs.js';
import { Ipv6Mode } from './ipv6-modes.js';
import { PoolPurpose } from './views.js';

/** Admins may act for another tenant; a tenant caller may only name itself. */
const OnBehalfOf = { tenant: TenantId.optional() };

/** Free text (a description; a name in an update, where absent means unchanged). */
const FreeText = z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` });
const Description = FreeText.default('');
const Mtu = z.number().int().min(576, { message: 'must be at least 576 (the IPv4 minimum)' }).max(9000);
const DeviceId = z.string().max(MAX_DEVICE_ID_LENGTH, { message: `must be at most ${MAX_DEVICE_ID_LENGTH} characters` });
/** What uses a port (Neutron's `device_owner`); free text to Strata, shown back as given. */
const DeviceOwner = z.string().max(MAX_DEVICE_OWNER_LENGTH, { message: `must be at most ${MAX_DEVICE_OWNER_LENGTH} characters` });

/**
 * The revision an update expects the resource to be at (its `revision` as
 * last read); a stale one is refused with RevisionConflictError and nothing
 * is written. Omitted: no check (last writer wins, field by field).
 */
const ExpectedRevision = z.number().int().min(1, { message: 'must be a revision (1 or more)' }).optional();

/**
 * A field that never changes after creation: an update may not name it at
 * all (Neutron refuses read-only attributes the same way, even with the
 * current value), so it is refused by name with why.
 */
const Refused = (message: string) =>
  z
    .unknown()
    .refine((v) => v === undefined, { message })
    .optional();
const Immutable = (why: string) => Refused(`cannot be changed: ${why}`);

/** A static route: a destination CIDR and its next hop (host routes of a subnet, extra routes of a router). */
export const RouteInput = z.object({ destination: Cidr, nexthop: IpAddress });
export const DnsNameserversInput = z
  .array(IpAddress)
  .max(MAX_DNS_NAMESERVERS, { message: `at most ${MAX_DNS_NAMESERVERS} DNS servers` })
  .refine((l) => new Set(l).size === l.length, { message: 'lists a DNS server twice' });
export const HostRoutesInput = z.array(RouteInput).max(MAX_HOST_ROUTES, { message: `at most ${MAX_HOST_ROUTES} host routes` });
export const RouterRoutesInput = z.array(RouteInput).max(MAX_ROUTER_ROUTES, { message: `at most ${MAX_ROUTER_ROUTES} routes` });

export const CreateNetwork = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  description: Description,
  /** Defaults to the underlay MTU minus VXLAN overhead (50 bytes for IPv4 underlay). */
  mtu: Mtu.optional(),
  routed: z.boolean().default(false),
  /** The port security a new port of the network gets unless its creation says otherwise. */
  portSecurityEnabled: z.boolean().default(true),
  /** Stretched across the zones of this zone's federation: its ports are announced to them and theirs learned (docs/architecture.md, "Availability zones"). */
  federated: z.boolean().default(false),
  /**
   * Admin only: this VNI instead of one IPAM allocates, how a zone joins a
   * segment another zone allocated (the same VNI on both sides). Refused
   * when a network of this zone has it.
   */
  vni: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be a VNI from 1 to 16777215' }).max(16777215, { message: 'must be a VNI from 1 to 16777215' }).optional(),
});

/** Change a network: absent fields are unchanged. */
export const UpdateNetwork = z.object({
  id: Id,
  expectedRevision: ExpectedRevision,
  name: FreeText.optional(),
  description: FreeText.optional(),
  /** Hosts apply it at once; a VM's own interface takes it at its next DHCP renewal (as in Neutron). */
  mtu: Mtu.optional(),
  /** The default for ports created from now on; existing ports keep theirs. */
  portSecurityEnabled: z.boolean().optional(),
  /** Stretch the network across the federation's zones, or stop (its routes are withdrawn from them and theirs forgotten). */
  federated: z.boolean().optional(),
  tenant: Immutable("a network's tenant owns it and everything on it"),
  routed: Immutable('a routed network is advertised to the fabric and a NATed one is not; create another network'),
});

export const AllocationPoolInput = z.object({ start: IpAddress, end: IpAddress });
const AllocationPoolsInput = z.array(AllocationPoolInput).max(MAX_ALLOCATION_POOLS, { message: `at most ${MAX_ALLOCATION_POOLS} allocation pools` });

export const CreateSubnet = z.object({
  networkId: Id,
  name: DisplayName,
  cidr: Cidr,
  /** Omitted: the first usable address. null: no gateway (isolated subnet). */
  gatewayIp: IpAddress.nullable().optional(),
  /** Omitted: the whole subnet minus network, broadcast (IPv4) and gateway. */
  allocationPools: AllocationPoolsInput.optional(),
  enableDhcp: z.boolean().default(true),
  description: Description,
  dnsNameservers: DnsNameserversInput.default([]),
  hostRoutes: HostRoutesInput.default([]),
  /** IPv6 only (ipv6-modes.ts): who sends RAs and how ports get addresses; null: not set. */
  ipv6RaMode: Ipv6Mode.nullable().default(null),
  ipv6AddressMode: Ipv6Mode.nullable().default(null),
});

/** Change a subnet: absent fields are unchanged; a list given replaces the list. */
export const UpdateSubnet = z.object({
  id: Id,
  expectedRevision: ExpectedRevision,
  name: FreeText.optional(),
  description: FreeText.optional(),
  /** Every address assigned inside the current pools must stay inside the new ones. */
  allocationPools: AllocationPoolsInput.optional(),
  enableDhcp: z.boolean().optional(),
  dnsNameservers: DnsNameserversInput.optional(),
  hostRoutes: HostRoutesInput.optional(),
  networkId: Immutable("a subnet's addresses belong to its network; create a subnet on the other network"),
  cidr: Immutable("ports hold addresses of it; create another subnet"),
  ipVersion: Immutable('it is the version of the CIDR'),
  tenant: Immutable("a subnet belongs to its network's tenant"),
});

export const FixedIpRequest = z
  .object({ subnetId: Id.optional(), ip: IpAddress.optional() })
  .refine((f) => f.subnetId !== undefined || f.ip !== undefined, { message: 'needs subnetId, ip or both' });
const FixedIpsInput = z.array(FixedIpRequest).max(MAX_FIXED_IPS_PER_PORT, { message: `at most ${MAX_FIXED_IPS_PER_PORT} fixed IPs` });

/**
 * An allowed address pair (Neutron's semantics): an address or a CIDR the
 * port may also send from, with the MAC it may use for it (omitted: the
 * port's own MAC). A VRRP/keepalived pair's virtual IP is one.
 */
export const AllowedAddressPairInput = z.object({ ipAddress: PairAddress, macAddress: MacAddress.optional() });

export const AllowedAddressPairsInput = z
  .array(AllowedAddressPairInput)
  .max(MAX_ALLOWED_ADDRESS_PAIRS, { message: `at most ${MAX_ALLOWED_ADDRESS_PAIRS} allowed address pairs` });

export const CreatePort = z.object({
  networkId: Id,
  name: DisplayName,
  /** Omitted: generated, unique on the network. */
  mac: MacAddress.optional(),
  /** Omitted: one address from every subnet of the network. Empty list: no address. */
  fixedIps: FixedIpsInput.optional(),
  hostId: HostId.nullable().default(null),
  deviceId: DeviceId.default(''),
  deviceOwner: DeviceOwner.default(''),
  /** Omitted or empty: none. */
  allowedAddressPairs: AllowedAddressPairsInput.optional(),
  description: Description,
  adminStateUp: z.boolean().default(true),
});

/**
 * Change a port: absent fields are unchanged. `fixedIps` is the port's new
 * list (Neutron's semantics): an entry naming an address the port has keeps
 * it, one naming only a subnet keeps the port's address there or allocates
 * one, an address the list drops goes back to its subnet's pool.
 */
export const UpdatePort = z.object({
  id: Id,
  expectedRevision: ExpectedRevision,
  name: FreeText.optional(),
  description: FreeText.optional(),
  adminStateUp: z.boolean().optional(),
  fixedIps: FixedIpsInput.optional(),
  /** The whole new list (empty: none). */
  allowedAddressPairs: AllowedAddressPairsInput.optional(),
  deviceId: DeviceId.optional(),
  deviceOwner: DeviceOwner.optional(),
  networkId: Immutable("a port lives on its network; create a port on the other network"),
  mac: Immutable("the MAC is part of the port's anti-spoofing, pairs and DHCP identity; create another port"),
  tenant: Immutable("a port belongs to its network's tenant"),
  hostId: Refused('is changed by port.bind (BindPort: strata port bind), not by an update'),
});

/** Replace a port's allowed address pairs (empty: none): `port.update` with only `allowedAddressPairs`, kept for existing clients. */
export const SetAllowedAddressPairs = z.object({ id: Id, allowedAddressPairs: AllowedAddressPairsInput });

/** Bind a port to a hypervisor, move it (VM migration) or unbind it (null). */
export const BindPort = z.object({ id: Id, hostId: HostId.nullable() });

export const RegisterHypervisor = z.object({
  id: HostId,
  vtepIp: IpAddress,
  /** Pool (purpose host-ip) the host's public H-IP comes from. */
  hostPoolId: Id,
  /** Omitted: the next free address of the pool. */
  publicIp: IpAddress.optional(),
});

export const CreatePool = z.object({
  name: DisplayName,
  cidr: Cidr,
  purpose: z.enum(PoolPurpose),
});

export const AllocateFloatingIp = z.object({ ...OnBehalfOf, poolId: Id, address: IpAddress.optional(), description: Description });

export const AllocateApplicationPrefix = z.object({
  ...OnBehalfOf,
  poolId: Id,
  /** A specific prefix; omitted: the next free one of `length`. */
  prefix: Cidr.optional(),
  /** /32-/29 for IPv4, /64 for IPv6. Default: /32 or /64. */
  length: z.number().int().optional(),
});

export const CreateRouter = z.object({ ...OnBehalfOf, name: DisplayName, description: Description, routes: RouterRoutesInput.default([]) });

/** Change a router: absent fields are unchanged; `routes` replaces the list (each nexthop inside one of the router's subnets). */
export const UpdateRouter = z.object({
  id: Id,
  expectedRevision: ExpectedRevision,
  name: FreeText.optional(),
  description: FreeText.optional(),
  routes: RouterRoutesInput.optional(),
  tenant: Immutable("a router belongs to its tenant and joins only that tenant's subnets"),
});
/** Join a subnet to a router (the subnet's gateway becomes the router's interface on every host). */
export const RouterInterface = z.object({ id: Id, subnetId: Id });

export const ById = z.object({ id: Id });
export const HostById = z.object({ id: HostId });

export const ListNetworks = ListOptions.extend({});
export const ListSubnets = ListOptions.extend({ networkId: Id.optional() });
export const ListPorts = ListOptions.extend({ networkId: Id.optional(), hostId: HostId.optional() });
export const ListAll = ListOptions.extend({});
export const Empty = z.object({});
