/**
 * The per-host desired state the control plane derives for each agent
 * (the role of OVN's southbound DB or Calico's Typha/Felix calculation graph).
 *
 * Each host has its own JetStream KV bucket, `strata-hostview-<hostId>`
 * (`hostviewBucket`), one key per object; the keys keep the host prefix, so
 * a key names its host wherever it is seen:
 *
 *   <hostId>.host                   HostInfo          this hypervisor (VTEP, H-IP)
 *   <hostId>.port.<portId>          LocalPort         a port bound to this host
 *   <hostId>.net.<networkId>        HostNetwork       a network this host needs
 *   <hostId>.ep.<portId>            RemoteEndpoint    a port on another host, in a network this host needs
 *   <hostId>.domain.<domainId>      RoutingDomain     a tenant router (or a lone network) realised here
 *   <hostId>.sg.<groupId>           HostSecurityGroup the rules of a group a local port is a member of
 *   <hostId>.member.<groupId>.<portId>  GroupMember   a member of a group that those rules name as remote group,
 *                                                     or that a classifier of a chain realised here names
 *   <hostId>.chain.<chainId>        HostChain         a service chain on a routing domain realised here
 *   <hostId>.l2gw.<bindingId>       L2Gateway         a VLAN of a NIC of this gateway host carrying a network (a
 *                                                     gateway binding of the `host` device that is this hypervisor)
 *   <hostId>.position.view          ViewPosition      the log position the other keys reflect (not derived:
 *                                                     written by hostview after them, see below)
 *
 * Security groups follow the "membership is a tag" rule: a group's rules
 * are one key, written when the rules change; each member is its own key, so
 * a membership change is one small put/delete on the hosts that reference
 * the group (an nftables set element there), never a rule rewrite. A host
 * gets member keys only for groups its local groups' rules reference.
 *
 * An agent watches `<hostId>.>` in its own bucket: the watch first delivers
 * every current key (the snapshot), then each put/delete (the deltas). What
 * it receives grows with what is on its host, not with the size of the
 * cloud. One bucket per host is what lets NATS permissions confine an agent
 * to its own host: the agent's user may create consumers on its own
 * bucket's stream (`KV_strata-hostview-<hostId>`) and on no other
 * (infra/nats/render-accounts.mjs, docs/architecture.md "NATS security").
 *
 * A bucket is created (history 1) when its host first gets a key. A host
 * that loses every key (deregistered) keeps an empty bucket, so its agent
 * sees the deletes and tears down.
 */
import { z } from 'zod';
import { SecurityGroupRule } from './secgroup/views.js';
import { Ipv6Mode } from './ipam/ipv6-modes.js';
import { FlowClassifier, FunctionMode, GroupFallback, GroupSelection, HealthCheck } from './chaining/views.js';

/** Every host-view bucket's name starts with this; host ids (HostId: a-z 0-9 _ -) are valid bucket name suffixes. */
export const HOSTVIEW_BUCKET_PREFIX = 'strata-hostview-';

/** The KV bucket holding one host's view. */
export const hostviewBucket = (hostId: string): string => `${HOSTVIEW_BUCKET_PREFIX}${hostId}`;

/** How a host's bucket is made (by the operator, infra/lab/src/provision.ts, or by hostview where it may): agents need the current value only. */
export const HOSTVIEW_BUCKET_OPTIONS = { history: 1 } as const;

/** The same with a replica count (the process's STRATA_NATS_REPLICAS, `natsReplicas()` of @strata/eventlog). */
export const hostviewBucketOptions = (replicas: number): { history: number; replicas: number } => ({ ...HOSTVIEW_BUCKET_OPTIONS, replicas });

/**
 * The KV bucket of hostview's partition leases (services/hostview/src/core/lease.ts):
 * one key per partition, naming the instance that publishes it. Created by the
 * operator (infra/lab/src/provision.ts), with STRATA_NATS_REPLICAS replicas.
 */
export const HOSTVIEW_LEASE_BUCKET = 'strata_hostview_leases';

/** How the lease bucket is made: the current record only (a lease's past is of no use), `replicas` as STRATA_NATS_REPLICAS says. */
export const hostviewLeaseBucketOptions = (replicas: number): { history: number; replicas: number } => ({ history: 1, replicas });

/** A partition's key in the lease bucket: `partition.<count>.<index>` (a lease is for one partitioning). */
export const hostviewLeaseKey = (index: number, count: number): string => `partition.${count}.${index}`;

/** The JetStream stream behind a host's bucket (`KV_<bucket>`): the name NATS permissions and stream listings use. */
export const hostviewStream = (hostId: string): string => `KV_${hostviewBucket(hostId)}`;

/** The host whose bucket a stream is, or undefined for any other stream. */
export const hostOfHostviewStream = (stream: string): string | undefined => {
  const prefix = hostviewStream('');
  return stream.startsWith(prefix) && stream.length > prefix.length ? stream.slice(prefix.length) : undefined;
};

export const SubnetInfo = z.object({
  id: z.string(),
  ipVersion: z.union([z.literal(4), z.literal(6)]),
  cidr: z.string(),
  /** Anycast gateway address, the same on every host; null: no gateway (and no routing). */
  gatewayIp: z.string().nullable(),
  enableDhcp: z.boolean(),
  /** DNS servers handed out by DHCP (option 6), in the subnet's order. Left out when none. */
  dnsNameservers: z.array(z.string()).optional(),
  /** Host routes handed out by DHCP (classless static routes, option 121), in the subnet's order. Left out when none. */
  hostRoutes: z.array(z.object({ destination: z.string(), nexthop: z.string() })).optional(),
  /** IPv6 modes (ipam/ipv6-modes.ts): RAs and DHCPv6 from the gateway on this host. Each left out when not set. */
  ipv6RaMode: Ipv6Mode.optional(),
  ipv6AddressMode: Ipv6Mode.optional(),
});
export type SubnetInfo = z.infer<typeof SubnetInfo>;

export const HostInfo = z.object({
  id: z.string(),
  vtepIp: z.string(),
  publicIp: z.string(),
});
export type HostInfo = z.infer<typeof HostInfo>;

export const HostNetwork = z.object({
  id: z.string(),
  tenant: z.string(),
  vni: z.number().int(),
  mtu: z.number().int(),
  subnets: z.array(SubnetInfo),
  /** Routing domain the network belongs to (its router, or the network itself when it has none). */
  domainId: z.string(),
  /** MAC of the network's anycast gateway interface: identical on every host. */
  gatewayMac: z.string(),
  /** VTEPs of the other hosts with ports on this network: head-end replication list for BUM traffic. */
  floodVteps: z.array(z.string()),
  /**
   * Routed (no NAT): the fabric routes the network's addresses to the
   * hypervisors (the BGP gateway advertises them), and its ports reach
   * outside with their own addresses. Left out when false.
   */
  routed: z.boolean().optional(),
});
export type HostNetwork = z.infer<typeof HostNetwork>;

export const FixedIpInfo = z.object({ subnetId: z.string(), ip: z.string() });

/**
 * A pair address a port currently owns (IPAM's AddressPairOwnerChanged: its
 * gratuitous ARP was the last accepted), with the MAC it announced: local
 * ARP answers for the address (bridge and routing-domain neighbours) give
 * this MAC. An address no port owns yet has no entry anywhere: ARP for it
 * floods and its holder answers itself.
 */
export const OwnedAddress = z.object({ ip: z.string(), mac: z.string() });
export type OwnedAddress = z.infer<typeof OwnedAddress>;

export const LocalPort = z.object({
  id: z.string(),
  tenant: z.string(),
  networkId: z.string(),
  mac: z.string(),
  fixedIps: z.array(FixedIpInfo),
  /** Host-side interface name of the VM's NIC (the hypervisor creates it; the agent plugs it). */
  device: z.string(),
  /**
   * Security groups of the port, sorted; empty: the port is not filtered by
   * security groups. null: the security-group service has not decided the
   * port's groups yet (a port is created in IPAM first; secgroup puts it in
   * its tenant's default group right after). The agent does not plug a port
   * whose groups are not known, so a new VM is never briefly unfiltered.
   */
  groupIds: z.array(z.string()).nullable().default(null),
  /** Anti-spoofing: the port may send only from its own MAC and fixed IPs (and its allowed address pairs). */
  portSecurity: z.boolean().default(true),
  /**
   * Administrative state (IPAM): false, the port forwards nothing (the agent
   * keeps its NIC plugged but down). Left out when up.
   */
  adminStateUp: z.boolean().optional(),
  /**
   * Allowed address pairs (IPAM): an address or CIDR the port may also send
   * from with the pair's MAC; anti-spoofing admits them and the agent
   * watches the port's gratuitous ARPs for them. Left out when none.
   */
  allowedAddressPairs: z.array(z.object({ ipAddress: z.string(), macAddress: z.string() })).optional(),
  /** Pair addresses the port owns, sorted by address. Left out when none. */
  ownedAddresses: z.array(OwnedAddress).optional(),
  /**
   * Floating IPs associated with the port (static 1:1 NAT on this host, in
   * the port's routing-domain namespace). Left out when there are none.
   */
  floatingIps: z.array(z.object({ address: z.string(), fixedIp: z.string() })).optional(),
  /**
   * Prefixes this port (an appliance on a routed network) announced over BGP
   * and the gateway accepted, each with the port's address it announced
   * them from: the fabric sends their traffic to this host, which routes it
   * to the port. Left out when none.
   */
  announcedRoutes: z.array(z.object({ prefix: z.string(), nextHop: z.string() })).optional(),
});
export type LocalPort = z.infer<typeof LocalPort>;

export const HostSecurityGroup = z.object({
  id: z.string(),
  tenant: z.string(),
  /** Sorted by rule id, so an unchanged group is never re-put; each rule exactly as secgroup's events record it. */
  rules: z.array(SecurityGroupRule),
});
export type HostSecurityGroup = z.infer<typeof HostSecurityGroup>;

export const GroupMember = z.object({
  groupId: z.string(),
  /** The member port; for a member in another availability zone, its endpoint id (`phys-zone-<name>-<vni>-<mac>`). */
  portId: z.string(),
  /** The member's fixed IPs (v4 and v6), then its allowed-address-pair addresses (not CIDRs): the elements it contributes to the group's sets. */
  ips: z.array(z.string()),
});
export type GroupMember = z.infer<typeof GroupMember>;

export const RemoteEndpoint = z.object({
  id: z.string(),
  networkId: z.string(),
  mac: z.string(),
  ips: z.array(z.string()),
  /** Underlay address of the host the port is on. */
  vtep: z.string(),
  /** Pair addresses the port owns, sorted by address (LocalPort's `ownedAddresses`). Left out when none. */
  ownedAddresses: z.array(OwnedAddress).optional(),
});
export type RemoteEndpoint = z.infer<typeof RemoteEndpoint>;

export const RoutingDomain = z.object({
  id: z.string(),
  tenant: z.string(),
  kind: z.enum(['router', 'network']),
  /** Networks joined by this domain that this host needs. */
  networkIds: z.array(z.string()),
  /**
   * The router has an external gateway: ports without a floating IP reach
   * outside through PNAT to this host's H-IP. Left out when false.
   */
  externalGateway: z.boolean().optional(),
  /**
   * The router's static routes (Neutron's extraroute), sorted by destination
   * then next hop: the domain namespace routes each destination to its next
   * hop, an address on one of the router's subnets. Left out when none.
   */
  routes: z.array(z.object({ destination: z.string(), nexthop: z.string() })).optional(),
  /**
   * The router's peering attachments (docs/architecture.md, "VPC peering
   * (issue 20)"), sorted by segment: its transit address and MAC on the
   * segment (VNI, transit subnet), the other routers on it (their transit
   * addresses and MACs: permanent neighbours) and the routes to their
   * prefixes via them (contracts ipam/peering.ts `derivePeeringRoutes`).
   * The host has every one of those routers too. Left out when none.
   */
  peerings: z
    .array(
      z.object({
        segmentId: z.string(),
        vni: z.number().int(),
        cidr: z.string(),
        attachmentId: z.string(),
        ip: z.string(),
        mac: z.string(),
        neighbours: z.array(z.object({ ip: z.string(), mac: z.string() })),
        routes: z.array(z.object({ destination: z.string(), nexthop: z.string() })),
      }),
    )
    .optional(),
});
export type RoutingDomain = z.infer<typeof RoutingDomain>;
export type DomainPeering = NonNullable<RoutingDomain['peerings']>[number];

/** One leg of an appliance: a port of a network of the chain's router, with what routing to it needs. */
export const ChainLeg = z.object({
  portId: z.string(),
  networkId: z.string(),
  mac: z.string(),
  /** The port's fixed IPs (v4 and v6). */
  ips: z.array(z.string()),
});
export type ChainLeg = z.infer<typeof ChainLeg>;

export const ChainMember = z.object({
  functionId: z.string(),
  /** Forward traffic enters the appliance here (and reverse traffic of a symmetric chain leaves here). */
  ingress: ChainLeg,
  /** Forward traffic leaves the appliance here; the same port as ingress for a one-arm appliance. */
  egress: ChainLeg,
  /** As decided by the chaining service; flow-hash spreads flows over healthy members only. */
  healthy: z.boolean(),
  /** The agent on the appliance's host (the host of `ingress.portId`) runs this check; null: none. */
  healthCheck: HealthCheck.nullable(),
  /** The redundant pair's shared address: its gratuitous ARPs are watched on the legs. */
  virtualIp: z.string().nullable(),
});
export type ChainMember = z.infer<typeof ChainMember>;

export const ChainHop = z.object({
  groupId: z.string(),
  mode: z.enum(FunctionMode),
  selection: z.enum(GroupSelection),
  fallback: z.enum(GroupFallback),
  /** In the group's order. */
  members: z.array(ChainMember),
  /** active-standby: the member traffic goes to (null: none usable); flow-hash: null. */
  activeFunctionId: z.string().nullable(),
});
export type ChainHop = z.infer<typeof ChainHop>;

/**
 * A service chain on a routing domain this host realises: everything the
 * agent needs to steer the chain's flows on this host as source, and to
 * check and watch the members whose legs are local, without a join.
 * Classifier groups are named by id; their members come as member keys
 * (`<h>.member.<groupId>.<portId>`), so a membership change changes set
 * elements only, never this key.
 */
export const HostChain = z.object({
  id: z.string(),
  tenant: z.string(),
  domainId: z.string(),
  symmetric: z.boolean(),
  classifiers: z.array(FlowClassifier),
  hops: z.array(ChainHop),
});
export type HostChain = z.infer<typeof HostChain>;

/**
 * `<hostId>.position.view`: this host's other keys are the derivation of the
 * log up to `seq` (a stream sequence of STRATA_EVENTS: the latest event that
 * changed this host's view). hostview writes it after every other write of
 * the host queued before it is acknowledged, so an agent that has received
 * it has received every key it covers (docs/architecture.md, "Realisation
 * status"). Not part of the derivation: no key family computes it.
 *
 * `trace`: the W3C trace context of hostview's write of this position (the
 * event's trace continued), so the agent that applies the view continues the
 * trace of the command that changed it (docs/architecture.md,
 * "Observability"). Absent on the start-up reconcile's positions.
 */
export const ViewPosition = z.object({
  seq: z.number().int().nonnegative(),
  trace: z.object({ traceparent: z.string(), tracestate: z.string().optional() }).optional(),
});
export type ViewPosition = z.infer<typeof ViewPosition>;

/**
 * A software L2 gateway binding on this host (docs/architecture.md, "Gateway
 * devices, bindings and the software gateway"): VLAN `vlan` of NIC `nic`
 * (the trunk, in the host's namespace) is bridged into network `networkId`
 * (whose `net` key this host then has).
 */
export const L2Gateway = z.object({
  id: z.string(),
  networkId: z.string(),
  nic: z.string(),
  vlan: z.number().int().min(1).max(4094),
});
export type L2Gateway = z.infer<typeof L2Gateway>;

// ---- The codec: key layout and the schema of each kind's value -------------
// The one place that knows how a host view's keys are made; hostview writes
// with it, the agent reads with it, tests use it.

/** Every kind of key in a host view, and the schema of its value. */
export const HOSTVIEW_SCHEMAS = {
  host: HostInfo,
  port: LocalPort,
  net: HostNetwork,
  ep: RemoteEndpoint,
  domain: RoutingDomain,
  sg: HostSecurityGroup,
  member: GroupMember,
  chain: HostChain,
  l2gw: L2Gateway,
  position: ViewPosition,
} as const;
export type HostviewKind = keyof typeof HOSTVIEW_SCHEMAS;
/** The kinds the derivation computes (every kind but the position, which hostview writes after them). */
export type DerivedHostviewKind = Exclude<HostviewKind, 'position'>;
export const HOSTVIEW_KINDS = Object.keys(HOSTVIEW_SCHEMAS) as HostviewKind[];
/** The value type of each kind. */
export type HostviewValue<K extends HostviewKind> = z.infer<(typeof HOSTVIEW_SCHEMAS)[K]>;

/** The position key's name after the host (one per host). */
const POSITION_KEY_SUFFIX = 'position.view';

/** KV key helpers (keys inside the host's bucket). Ids contain no dots. */
export const hostviewKey = {
  host: (h: string) => `${h}.host`,
  port: (h: string, id: string) => `${h}.port.${id}`,
  net: (h: string, id: string) => `${h}.net.${id}`,
  ep: (h: string, id: string) => `${h}.ep.${id}`,
  domain: (h: string, id: string) => `${h}.domain.${id}`,
  sg: (h: string, groupId: string) => `${h}.sg.${groupId}`,
  member: (h: string, groupId: string, portId: string) => `${h}.member.${groupId}.${portId}`,
  chain: (h: string, chainId: string) => `${h}.chain.${chainId}`,
  l2gw: (h: string, bindingId: string) => `${h}.l2gw.${bindingId}`,
  position: (h: string) => `${h}.${POSITION_KEY_SUFFIX}`,
  all: (h: string) => `${h}.>`,
};

/** A key taken apart. */
export interface HostviewKeyParts {
  hostId: string;
  kind: HostviewKind;
  /** Port, network, domain or group id; '' for the host key; 'view' for the position key. */
  id: string;
  /** The member's port id (member keys only; '' otherwise). */
  portId: string;
  /** The object's name among its kind's: `id`, or `<groupId>.<portId>` for a member; '' for the host key. */
  name: string;
}

const isKind = (token: string): token is HostviewKind => Object.hasOwn(HOSTVIEW_SCHEMAS, token);

/** Split `<hostId>.<kind>[.<id>[.<portId>]]`; undefined for a key this layout does not produce. */
export function parseHostviewKey(key: string): HostviewKeyParts | undefined {
  const parts = key.split('.');
  const [hostId, kind, id, portId] = parts;
  if (hostId === undefined || hostId === '' || kind === undefined || !isKind(kind)) return undefined;
  if (kind === 'host') return parts.length === 2 ? { hostId, kind, id: '', portId: '', name: '' } : undefined;
  if (id === undefined || id === '') return undefined;
  if (kind === 'position') return parts.length === 3 && id === 'view' ? { hostId, kind, id, portId: '', name: id } : undefined;
  if (kind === 'member') {
    return parts.length === 4 && portId !== undefined && portId !== '' ? { hostId, kind, id, portId, name: key.slice(hostId.length + kind.length + 2) } : undefined;
  }
  return parts.length === 3 ? { hostId, kind, id, portId: '', name: id } : undefined;
}

/** The host a key belongs to (its first token). */
export const hostOfHostviewKey = (key: string): string => {
  const dot = key.indexOf('.');
  return dot < 0 ? key : key.slice(0, dot);
};

/** Parse and check a key's value (JSON text) against its kind's schema; throws a message saying what is wrong. */
export function decodeHostviewValue<K extends HostviewKind>(kind: K, json: string): HostviewValue<K> {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error('value is not JSON');
  }
  const r = HOSTVIEW_SCHEMAS[kind].safeParse(data);
  if (!r.success) throw new Error(r.error.message);
  return r.data as HostviewValue<K>;
}

/** Host-side device name for a port: `tap` + the first 11 hex digits of its id (IFNAMSIZ is 16 with the NUL). */
export const portDevice = (portId: string): string => `tap${portId.replaceAll('-', '').slice(0, 11)}`;

/**
 * The anycast gateway MAC of a network: derived from its VNI so every host
 * computes the same one; locally administered (02:...), prefix 02:53:47 ("SG").
 */
export const gatewayMac = (vni: number): string =>
  `02:53:47:${[(vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
