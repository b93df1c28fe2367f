/**
 * IPAM's request schemas, one per operation; contract.ts ties each to its
 * operation, subject and reply. The API and the CLI build on exactly these
 * shapes.
 */
import { z } from 'zod';
import { MAX_ALLOCATION_POOLS, MAX_ALLOWED_ADDRESS_PAIRS, MAX_DEVICE_ID_LENGTH, MAX_FIXED_IPS_PER_PORT } from '../bounds.js';
import { Cidr, DisplayName, HostId, Id, IpAddress, ListOptions, MacAddress, TenantId } from '../common.js';
import { PairAddress } from './address-pairs.js';
import { Ipv6Mode } from './ipv6-modes.js';
import { PoolPurpose } from './views.js';

/** Admins may act for another tenant; a tenant caller may only name itself. */
const OnBehalfOf = { tenant: TenantId.optional() };

export const CreateNetwork = z.object({
  ...OnBehalfOf,
  name: DisplayName,
  /** Defaults to the underlay MTU minus VXLAN overhead (50 bytes for IPv4 underlay). */
  mtu: z.number().int().min(576, { message: 'must be at least 576 (the IPv4 minimum)' }).max(9000).optional(),
  routed: z.boolean().default(false),
});

export const AllocationPoolInput = z.object({ start: IpAddress, end: IpAddress });

export const CreateSubnet = z.object({
  networkId: Id,
  name: DisplayName,
  cidr: Cidr,
  /** Omitted: the first usable address. null: no gateway (isolated subnet). */
  gatewayIp: IpAddress.nullable().optional(),
  /** Omitted: the whole subnet minus network, broadcast (IPv4) and gateway. */
  allocationPools: z.array(AllocationPoolInput).max(MAX_ALLOCATION_POOLS, { message: `at most ${MAX_ALLOCATION_POOLS} allocation pools` }).optional(),
  enableDhcp: z.boolean().default(true),
  /** IPv6 only (ipv6-modes.ts): who sends RAs and how ports get addresses; null: not set. */
  ipv6RaMode: Ipv6Mode.nullable().default(null),
  ipv6AddressMode: Ipv6Mode.nullable().default(null),
});

export const FixedIpRequest = z
  .object({ subnetId: Id.optional(), ip: IpAddress.optional() })
  .refine((f) => f.subnetId !== undefined || f.ip !== undefined, { message: 'needs subnetId, ip or both' });

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
  fixedIps: z.array(FixedIpRequest).max(MAX_FIXED_IPS_PER_PORT, { message: `at most ${MAX_FIXED_IPS_PER_PORT} fixed IPs` }).optional(),
  hostId: HostId.nullable().default(null),
  deviceId: z.string().max(MAX_DEVICE_ID_LENGTH, { message: `must be at most ${MAX_DEVICE_ID_LENGTH} characters` }).default(''),
  /** Omitted or empty: none. */
  allowedAddressPairs: AllowedAddressPairsInput.optional(),
});

/** Replace a port's allowed address pairs (empty: none). */
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

export const AllocateFloatingIp = z.object({ ...OnBehalfOf, poolId: Id, address: IpAddress.optional() });

export const AllocateApplicationPrefix = z.object({
  ...OnBehalfOf,
  poolId: Id,
  /** A specific prefix; omitted: the next free one of `length`. */
  prefix: Cidr.optional(),
  /** /32-/29 for IPv4, /64 for IPv6. Default: /32 or /64. */
  length: z.number().int().optional(),
});

export const CreateRouter = z.object({ ...OnBehalfOf, name: DisplayName });
/** Join a subnet to a router (the subnet's gateway becomes the router's interface on every host). */
export const RouterInterface = z.object({ id: Id, subnetId: Id });

export const ById = z.object({ id: Id });
export const HostById = z.object({ id: HostId });

export const ListNetworks = ListOptions.extend({});
export const ListSubnets = ListOptions.extend({ networkId: Id.optional() });
export const ListPorts = ListOptions.extend({ networkId: Id.optional(), hostId: HostId.optional() });
export const ListAll = ListOptions.extend({});
export const Empty = z.object({});
