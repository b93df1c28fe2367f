/** IPAM's NATS operations: commands through the executor, queries straight from the projection. */
import { createHash } from 'node:crypto';
import { ipamCommands, ipamQueries, type IpamCommandName, type IpamQueryName } from '@strata/contracts';
import { handler, type Handler, type RequestMeta } from '@strata/runtime';
import { deciders, finishNetworkDeletion, type Caller } from '../domain/decide/index.js';
import type { IpamPolicy } from '../domain/policy.js';
import * as q from '../domain/queries.js';
import type { IpamState } from '../domain/state.js';
import type { Executor } from './executor.js';
import type { Projection } from './projection.js';

export interface HandlerDeps {
  executor: Executor;
  projection: Projection;
  policy: IpamPolicy;
}

const callerOf = (m: RequestMeta): Caller => ({ actor: m.actor, tenant: m.tenant, admin: m.admin, requestId: m.requestId, at: m.at });

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
      const caller = callerOf(meta);
      const base = { caller, correlationId: meta.correlationId, trace: ctx.trace };
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

type QueryFn = (s: IpamState, c: Caller, query: never) => unknown;
const queries: { [K in IpamQueryName]: QueryFn } = {
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

export function queryHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(ipamQueries) as IpamQueryName[]) {
    out[name] = handler(ipamQueries[name], async (body, meta) => {
      // Read-your-writes: a caller that saw sequence N never reads a state older than N.
      if (meta.minSeq !== undefined) await deps.projection.waitFor(meta.minSeq);
      const state = deps.projection.state;
      return { result: queries[name](state, callerOf(meta), body as never), seq: state.seq };
    });
  }
  return out;
}

/** sha256 over the state with sorted keys: equal digests ⇔ equal states, however they were built. */
export function stateDigest(s: IpamState): { seq: number; sha256: string } {
  const hash = createHash('sha256');
  writeCanonical(s, (chunk) => hash.update(chunk));
  return { seq: s.seq, sha256: hash.digest('hex') };
}

function writeCanonical(value: unknown, out: (chunk: string) => void): void {
  if (value === null || typeof value !== 'object') {
    out(JSON.stringify(value));
    return;
  }
  if (Array.isArray(value)) {
    out('[');
    value.forEach((v, i) => {
      if (i) out(',');
      writeCanonical(v, out);
    });
    out(']');
    return;
  }
  out('{');
  Object.keys(value)
    .sort()
    .forEach((k, i) => {
      if (i) out(',');
      out(JSON.stringify(k) + ':');
      writeCanonical((value as Record<string, unknown>)[k], out);
    });
  out('}');
}
