/** IPAM's NATS operations: commands through the executor, queries straight from the projection (`history`: from the log). */
import { ipamContract, type IpamContract, type IpamEvent } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { Handler } from '@strata/runtime';
import {
  commandHandlers as commandHandlersOf,
  queryHandlers as queryHandlersOf,
  resourceHistory,
  stateDigest,
  type CommandAnswers,
  type CommandHandling,
  type Executor,
  type Projection,
  type QueryAnswers,
} from '@strata/service-kit';
import { deciders, finishNetworkDeletion, type CommandContext, type NewIpamEvent } from '../domain/decide/index.js';
import type { IpamPolicy } from '../domain/policy.js';
import * as q from '../domain/queries.js';
import * as gq from '../domain/gateway-queries.js';
import * as pq from '../domain/peering-queries.js';
import type { IpamState } from '../domain/state.js';
import { ipamHistorySource } from './history.js';

export type IpamProjection = Projection<IpamState, IpamEvent>;
export type IpamExecutor = Executor<IpamState, NewIpamEvent>;

export interface HandlerDeps {
  executor: IpamExecutor;
  projection: IpamProjection;
  policy: IpamPolicy;
  /** The log, read directly by `history` (a resource's past is not in the projection). */
  store: EventStore;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<IpamContract, IpamState> = {
  'network.create': (s, c, id) => q.getNetwork(s, c, { id }),
  'network.update': (s, c, id) => q.getNetwork(s, c, { id }),
  'network.delete': (_s, _c, id) => ({ id }),
  'subnet.create': (s, c, id) => q.getSubnet(s, c, { id }),
  'subnet.update': (s, c, id) => q.getSubnet(s, c, { id }),
  'subnet.delete': (_s, _c, id) => ({ id }),
  'port.create': (s, c, id) => q.getPort(s, c, { id }),
  'port.update': (s, c, id) => q.getPort(s, c, { id }),
  'port.bind': (s, c, id) => q.getPort(s, c, { id }),
  'port.setAllowedAddressPairs': (s, c, id) => q.getPort(s, c, { id }),
  'port.delete': (_s, _c, id) => ({ id }),
  'hypervisor.register': (s, c, id) => q.getHypervisor(s, c, { id }),
  'hypervisor.deregister': (_s, _c, id) => ({ id }),
  'pool.create': (s, c, id) => q.getPool(s, c, { id }),
  'pool.delete': (_s, _c, id) => ({ id }),
  'floatingip.create': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'floatingip.delete': (_s, _c, id) => ({ id }),
  'appprefix.create': (s, c, id) => q.getApplicationPrefix(s, c, { id }),
  'appprefix.delete': (_s, _c, id) => ({ id }),
  'router.create': (s, c, id) => q.getRouter(s, c, { id }),
  'router.update': (s, c, id) => q.getRouter(s, c, { id }),
  'router.delete': (_s, _c, id) => ({ id }),
  'router.addInterface': (s, c, id) => q.getRouter(s, c, { id }),
  'router.removeInterface': (s, c, id) => q.getRouter(s, c, { id }),
  'gatewaydevice.create': (s, c, id) => gq.getGatewayDevice(s, c, { id }),
  'gatewaydevice.delete': (_s, _c, id) => ({ id }),
  'gatewaybinding.create': (s, c, id) => gq.getGatewayBinding(s, c, { id }),
  'gatewaybinding.move': (s, c, id) => gq.getGatewayBinding(s, c, { id }),
  'gatewaybinding.delete': (_s, _c, id) => ({ id }),
  'peeringsegment.create': (s, c, id) => pq.getPeeringSegment(s, c, { id }),
  'peeringsegment.delete': (_s, _c, id) => ({ id }),
  'peeringsegment.grant': (s, c, id) => pq.getPeeringSegment(s, c, { id }),
  'peeringsegment.revoke': (s, c, id) => pq.getPeeringSegment(s, c, { id }),
  'peeringsegment.attach': (s, c, id) => pq.getPeeringAttachment(s, c, id),
  'peeringsegment.detach': (_s, _c, id) => ({ id }),
};

const commands = (deps: HandlerDeps): CommandHandling<IpamContract, IpamState, NewIpamEvent, CommandContext> => ({
  ...deps,
  deciders,
  context: (caller) => ({ caller, policy: deps.policy }),
  answers,
  // A network is closed first (no new ports or subnets), then deleted; a crash between the two is finished at start (service.ts).
  twoStep: { 'network.delete': { first: 'close', second: 'delete', decide: finishNetworkDeletion } },
});

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> => commandHandlersOf(ipamContract, commands(deps));

const queries = (deps: HandlerDeps): QueryAnswers<IpamContract, IpamState> => ({
  'network.get': q.getNetwork,
  'network.list': q.listNetworks,
  'subnet.get': q.getSubnet,
  'subnet.list': q.listSubnets,
  'port.get': q.getPort,
  'port.list': q.listPorts,
  'hypervisor.get': q.getHypervisor,
  'hypervisor.list': q.listHypervisors,
  'pool.get': q.getPool,
  'pool.list': q.listPools,
  'floatingip.get': q.getFloatingIp,
  'floatingip.list': q.listFloatingIps,
  'appprefix.get': q.getApplicationPrefix,
  'appprefix.list': q.listApplicationPrefixes,
  'router.get': q.getRouter,
  'router.list': q.listRouters,
  'gatewaydevice.get': gq.getGatewayDevice,
  'gatewaydevice.list': gq.listGatewayDevices,
  'gatewaybinding.get': gq.getGatewayBinding,
  'gatewaybinding.list': gq.listGatewayBindings,
  'peeringsegment.get': pq.getPeeringSegment,
  'peeringsegment.list': pq.listPeeringSegments,
  'peeringsegment.routes': pq.peeringRoutes,
  'state.digest': (s) => stateDigest(s),
  history: (_s, c, req) => resourceHistory(ipamHistorySource(deps.store), c, req),
});

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(ipamContract, queries(deps), deps.projection);
