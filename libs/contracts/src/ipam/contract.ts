/**
 * IPAM's contract over NATS (contract.ts): commands at `strata.cmd.ipam.<op>`,
 * queries at `strata.qry.ipam.<op>`, each with its request schema
 * (commands.ts) and its reply schema (below, checked against views.ts).
 */
import { z } from 'zod';
import { defineContract, type CommandInput, type CommandName, type CommandRequest, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { Deleted, pageOf, StateDigest } from '../replies.js';
import { historyQuery } from '../audit/history.js';
import {
  AllocateApplicationPrefix,
  AllocateFloatingIp,
  BindPort,
  ById,
  CreateNetwork,
  CreatePool,
  CreatePort,
  CreateRouter,
  CreateSubnet,
  Empty,
  HostById,
  ListAll,
  ListNetworks,
  ListPorts,
  ListSubnets,
  RegisterHypervisor,
  RouterInterface,
  SetAllowedAddressPairs,
  UpdateNetwork,
  UpdatePort,
  UpdateRouter,
  UpdateSubnet,
} from './commands.js';
import * as v from './views.js';
import { Ipv6Mode } from './ipv6-modes.js';
import {
  CreateGatewayBinding,
  CreateGatewayDevice,
  GatewayDeviceKind,
  ListGatewayBindings,
  ListGatewayDevices,
  MoveGatewayBinding,
  type GatewayBindingView as GatewayBindingViewType,
  type GatewayDeviceView as GatewayDeviceViewType,
} from './gateway.js';
import {
  AttachPeering,
  CreatePeeringSegment,
  ListPeeringSegments,
  PeeringGrant,
  PeeringRoutesQuery,
  type PeeringAttachmentView as PeeringAttachmentViewType,
  type PeeringRoute as PeeringRouteType,
  type PeeringSegmentView as PeeringSegmentViewType,
} from './peering.js';

const ipVersion = z.union([z.literal(4), z.literal(6)]);

const Revised = { description: z.string(), revision: z.number() };
const NetworkView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  vni: z.number(),
  mtu: z.number(),
  routed: z.boolean(),
  portSecurityEnabled: z.boolean(),
  federated: z.boolean(),
  ...Revised,
  createdAt: z.string(),
  updatedAt: z.string(),
});
const AllocationPool = z.object({ start: z.string(), end: z.string() });
const Route = z.object({ destination: z.string(), nexthop: z.string() });
const SubnetView = z.object({
  id: z.string(),
  tenant: z.string(),
  networkId: z.string(),
  name: z.string(),
  ipVersion,
  cidr: z.string(),
  gatewayIp: z.string().nullable(),
  allocationPools: z.array(AllocationPool),
  enableDhcp: z.boolean(),
  dnsNameservers: z.array(z.string()),
  hostRoutes: z.array(Route),
  ...Revised,
  ipv6RaMode: Ipv6Mode.nullable().default(null),
  ipv6AddressMode: Ipv6Mode.nullable().default(null),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const PortView = z.object({
  id: z.string(),
  tenant: z.string(),
  networkId: z.string(),
  name: z.string(),
  mac: z.string(),
  fixedIps: z.array(z.object({ subnetId: z.string(), ip: z.string() })),
  hostId: z.string().nullable(),
  deviceId: z.string(),
  deviceOwner: z.string(),
  allowedAddressPairs: z.array(z.object({ ipAddress: z.string(), macAddress: z.string() })),
  ownedAddresses: z.array(z.string()),
  adminStateUp: z.boolean(),
  ...Revised,
  createdAt: z.string(),
  updatedAt: z.string(),
});
const HypervisorView = z.object({ id: z.string(), vtepIp: z.string(), publicIp: z.string(), hostPoolId: z.string(), registeredAt: z.string() });
const PoolView = z.object({ id: z.string(), name: z.string(), cidr: z.string(), purpose: z.enum(v.PoolPurpose), ipVersion, allocated: z.number(), createdAt: z.string() });
const FloatingIpView = z.object({ id: z.string(), tenant: z.string(), poolId: z.string(), address: z.string(), description: z.string(), createdAt: z.string() });
const ApplicationPrefixView = z.object({ id: z.string(), tenant: z.string(), poolId: z.string(), prefix: z.string(), createdAt: z.string() });
const RouterView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  interfaces: z.array(z.object({ subnetId: z.string(), networkId: z.string() })),
  routes: z.array(Route),
  ...Revised,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const GatewayDeviceView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(GatewayDeviceKind),
  vtepIp: z.string(),
  bgp: z.object({ address: z.string(), remoteAs: z.number() }).nullable(),
  ovsdb: z.object({ target: z.string() }).nullable(),
  hostId: z.string().nullable(),
  ports: z.array(z.object({ name: z.string(), tenant: z.string().nullable() })),
  createdAt: z.string(),
});
const GatewayBindingView = z.object({
  id: z.string(),
  tenant: z.string(),
  deviceId: z.string(),
  port: z.string(),
  vlan: z.number(),
  networkId: z.string(),
  vni: z.number(),
  description: z.string(),
  revision: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const PeeringAttachmentView = z.object({
  id: z.string(),
  segmentId: z.string(),
  tenant: z.string(),
  routerId: z.string(),
  ip: z.string(),
  mac: z.string(),
  createdAt: z.string(),
});
const PeeringSegmentView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  description: z.string(),
  cidr: z.string(),
  vni: z.number(),
  grants: z.array(z.string()),
  attachments: z.array(PeeringAttachmentView),
  peers: z.array(z.object({ ip: z.string(), mac: z.string(), prefixes: z.array(z.string()) })),
  revision: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const PeeringRoute = z.object({ segmentId: z.string(), destination: z.string(), nexthop: z.string() });

// The reply schemas parse to exactly the view types of views.ts: neither can change without the other.
true satisfies Exactly<z.output<typeof NetworkView>, v.NetworkView>;
true satisfies Exactly<z.output<typeof SubnetView>, v.SubnetView>;
true satisfies Exactly<z.output<typeof PortView>, v.PortView>;
true satisfies Exactly<z.output<typeof HypervisorView>, v.HypervisorView>;
true satisfies Exactly<z.output<typeof PoolView>, v.PoolView>;
true satisfies Exactly<z.output<typeof FloatingIpView>, v.FloatingIpView>;
true satisfies Exactly<z.output<typeof ApplicationPrefixView>, v.ApplicationPrefixView>;
true satisfies Exactly<z.output<typeof RouterView>, v.RouterView>;
true satisfies Exactly<z.output<typeof GatewayDeviceView>, GatewayDeviceViewType>;
true satisfies Exactly<z.output<typeof GatewayBindingView>, GatewayBindingViewType>;
true satisfies Exactly<z.output<typeof PeeringAttachmentView>, PeeringAttachmentViewType>;
true satisfies Exactly<z.output<typeof PeeringSegmentView>, PeeringSegmentViewType>;
true satisfies Exactly<z.output<typeof PeeringRoute>, PeeringRouteType>;

export const ipamContract = defineContract('ipam', {
  commands: {
    'network.create': { request: CreateNetwork, reply: NetworkView },
    'network.update': { request: UpdateNetwork, reply: NetworkView },
    'network.delete': { request: ById, reply: Deleted },
    'subnet.create': { request: CreateSubnet, reply: SubnetView },
    'subnet.update': { request: UpdateSubnet, reply: SubnetView },
    'subnet.delete': { request: ById, reply: Deleted },
    'port.create': { request: CreatePort, reply: PortView },
    'port.update': { request: UpdatePort, reply: PortView },
    'port.bind': { request: BindPort, reply: PortView },
    'port.setAllowedAddressPairs': { request: SetAllowedAddressPairs, reply: PortView },
    'port.delete': { request: ById, reply: Deleted },
    'hypervisor.register': { request: RegisterHypervisor, reply: HypervisorView },
    'hypervisor.deregister': { request: HostById, reply: Deleted },
    'pool.create': { request: CreatePool, reply: PoolView },
    'pool.delete': { request: ById, reply: Deleted },
    'floatingip.create': { request: AllocateFloatingIp, reply: FloatingIpView },
    'floatingip.delete': { request: ById, reply: Deleted },
    'appprefix.create': { request: AllocateApplicationPrefix, reply: ApplicationPrefixView },
    'appprefix.delete': { request: ById, reply: Deleted },
    'router.create': { request: CreateRouter, reply: RouterView },
    'router.update': { request: UpdateRouter, reply: RouterView },
    'router.delete': { request: ById, reply: Deleted },
    'router.addInterface': { request: RouterInterface, reply: RouterView },
    'router.removeInterface': { request: RouterInterface, reply: RouterView },
    'gatewaydevice.create': { request: CreateGatewayDevice, reply: GatewayDeviceView },
    'gatewaydevice.delete': { request: ById, reply: Deleted },
    'gatewaybinding.create': { request: CreateGatewayBinding, reply: GatewayBindingView },
    'gatewaybinding.move': { request: MoveGatewayBinding, reply: GatewayBindingView },
    'gatewaybinding.delete': { request: ById, reply: Deleted },
    'peeringsegment.create': { request: CreatePeeringSegment, reply: PeeringSegmentView },
    'peeringsegment.delete': { request: ById, reply: Deleted },
    'peeringsegment.grant': { request: PeeringGrant, reply: PeeringSegmentView },
    'peeringsegment.revoke': { request: PeeringGrant, reply: PeeringSegmentView },
    /** Answers with the attachment; `peeringsegment.detach` takes the attachment's id. */
    'peeringsegment.attach': { request: AttachPeering, reply: PeeringAttachmentView },
    'peeringsegment.detach': { request: ById, reply: Deleted },
  },
  queries: {
    'network.get': { request: ById, reply: NetworkView },
    'network.list': { request: ListNetworks, reply: pageOf(NetworkView) },
    'subnet.get': { request: ById, reply: SubnetView },
    'subnet.list': { request: ListSubnets, reply: pageOf(SubnetView) },
    'port.get': { request: ById, reply: PortView },
    'port.list': { request: ListPorts, reply: pageOf(PortView) },
    'hypervisor.get': { request: HostById, reply: HypervisorView },
    'hypervisor.list': { request: ListAll, reply: pageOf(HypervisorView) },
    'pool.get': { request: ById, reply: PoolView },
    'pool.list': { request: ListAll, reply: pageOf(PoolView) },
    'floatingip.get': { request: ById, reply: FloatingIpView },
    'floatingip.list': { request: ListAll, reply: pageOf(FloatingIpView) },
    'appprefix.get': { request: ById, reply: ApplicationPrefixView },
    'appprefix.list': { request: ListAll, reply: pageOf(ApplicationPrefixView) },
    'router.get': { request: ById, reply: RouterView },
    'router.list': { request: ListAll, reply: pageOf(RouterView) },
    'gatewaydevice.get': { request: ById, reply: GatewayDeviceView },
    'gatewaydevice.list': { request: ListGatewayDevices, reply: pageOf(GatewayDeviceView) },
    'gatewaybinding.get': { request: ById, reply: GatewayBindingView },
    'gatewaybinding.list': { request: ListGatewayBindings, reply: pageOf(GatewayBindingView) },
    'peeringsegment.get': { request: ById, reply: PeeringSegmentView },
    'peeringsegment.list': { request: ListPeeringSegments, reply: pageOf(PeeringSegmentView) },
    /** A router's routes across its peering segments (peering.ts, derivePeeringRoutes). */
    'peeringsegment.routes': { request: PeeringRoutesQuery, reply: z.object({ routes: z.array(PeeringRoute) }) },
    'state.digest': { request: Empty, reply: StateDigest },
    /** A network, subnet, port, router, floating IP, pool or hypervisor, version by version up to a log position (audit). */
    history: historyQuery,
  },
});

export type IpamContract = typeof ipamContract;
export type IpamCommandName = CommandName<IpamContract>;
export type IpamCommandInput<K extends IpamCommandName> = CommandInput<IpamContract, K>;
export type IpamCommand<K extends IpamCommandName> = CommandRequest<IpamContract, K>;
export type IpamQuery<K extends QueryName<IpamContract>> = QueryRequest<IpamContract, K>;
