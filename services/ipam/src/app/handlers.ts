/** IPAM's NATS operations: commands through the executor, queries straight from the projection. */
import { ipamCommands, ipamQueries, type IpamCommandName, type IpamEvent, type IpamQueryName } from '@strata/contracts';
import { handler, type Handler } from '@strata/runtime';
import { clientCommand, projectionQueryHandlers, stateDigest, type Executor, type Projection, type QueryFn } from '@strata/service-kit';
import { deciders, finishNetworkDeletion, type Caller, type NewIpamEvent } from '../domain/decide/index.js';
import type { IpamPolicy } from '../domain/policy.js';
import * as q from '../domain/queries.js';
import type { IpamState } from '../domain/state.js';

export type IpamProjection = Projection<IpamState, IpamEvent>;
export type IpamExecutor = Executor<IpamState, NewIpamEvent>;

export interface HandlerDeps {
  executor: IpamExecutor;
  projection: IpamProjection;
  policy: IpamPolicy;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: { [K in IpamCommandName]: (s: IpamState, c: Caller, id: string) => unknown } = {
  'network.create': (s, c, id) => q.getNetwork(s, c, { id }),
  'network.delete': (_s, _c, id) => ({ id }),
  'subnet.create': (s, c, id) => q.getSubnet(s, c, { id }),
  'subnet.delete': (_s, _c, id) => ({ id }),
  'port.create': (s, c, id) => q.getPort(s, c, { id }),
  'port.bind': (s, c, id) => q.getPort(s, c, { id }),
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
  'router.delete': (_s, _c, id) => ({ id }),
  'router.addInterface': (s, c, id) => q.getRouter(s, c, { id }),
  'router.removeInterface': (s, c, id) => q.getRouter(s, c, { id }),
};

export function commandHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(ipamCommands) as IpamCommandName[]) {
    const decide = deciders[name] as (s: IpamState, cmd: unknown, ctx: { caller: Caller; policy: IpamPolicy }) => ReturnType<(typeof deciders)[typeof name]>;
    out[name] = handler(ipamCommands[name], async (body, meta, ctx) => {
      const base = clientCommand(name, body, meta, ctx.trace);
      const { caller } = base;
      const step = name === 'network.delete' ? 'close' : undefined;
      let done = await deps.executor.execute((s) => decide(s, body, { caller, policy: deps.policy }), { ...base, ...(step ? { step } : {}) });
      if (name === 'network.delete') {
        done = await deps.executor.execute((s) => finishNetworkDeletion(s, done.resourceId), { ...base, step: 'delete' });
      }
      return { result: answers[name](deps.projection.state, caller, done.resourceId), seq: done.seq };
    });
  }
  return out;
}

const queries: { [K in IpamQueryName]: QueryFn<IpamState> } = {
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
  'state.digest': (s) => stateDigest(s),
};

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => projectionQueryHandlers(ipamQueries, queries, deps.projection);
