/** Secgroup's NATS operations: commands through the executor, queries straight from the projection. */
import { secgroupCommands, secgroupQueries, type SecgroupCommandName, type SecgroupQueryName } from '@strata/contracts';
import { handler, type Handler, type RequestMeta } from '@strata/runtime';
import { deciders, type Caller, type Decision } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { SecgroupState } from '../domain/state.js';
import { stateDigest } from '../lib/digest.js';
import type { SecgroupExecutor, SecgroupProjection } from './projection.js';

export interface HandlerDeps {
  executor: SecgroupExecutor;
  projection: SecgroupProjection;
}

const callerOf = (m: RequestMeta): Caller => ({ actor: m.actor, tenant: m.tenant, admin: m.admin, requestId: m.requestId, at: m.at });

/** The view each command answers with, read from the state that includes its write. */
const answers: { [K in SecgroupCommandName]: (s: SecgroupState, c: Caller, id: string) => unknown } = {
  'group.create': (s, c, id) => q.getGroup(s, c, { id }),
  'group.delete': (_s, _c, id) => ({ id }),
  'rule.create': (s, c, id) => q.getRule(s, c, id),
  'rule.delete': (_s, _c, id) => ({ id }),
  'port.setGroups': (s, c, id) => q.getPortSecurity(s, c, { portId: id }),
  'port.setSecurity': (s, c, id) => q.getPortSecurity(s, c, { portId: id }),
};

export function commandHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(secgroupCommands) as SecgroupCommandName[]) {
    const decide = deciders[name] as (s: SecgroupState, cmd: unknown, ctx: { caller: Caller }) => Decision;
    out[name] = handler(secgroupCommands[name], async (body, meta, ctx) => {
      const caller = callerOf(meta);
      const done = await deps.executor.execute((s) => decide(s, body, { caller }), { caller, correlationId: meta.correlationId, trace: ctx.trace });
      return { result: answers[name](deps.projection.state, caller, done.resourceId), seq: done.seq };
    });
  }
  return out;
}

type QueryFn = (s: SecgroupState, c: Caller, query: never) => unknown;
const queries: { [K in SecgroupQueryName]: QueryFn } = {
  'group.get': q.getGroup,
  'group.list': q.listGroups,
  'port.get': q.getPortSecurity,
  'state.digest': (s) => stateDigest(s),
};

export function queryHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(secgroupQueries) as SecgroupQueryName[]) {
    out[name] = handler(secgroupQueries[name], async (body, meta) => {
      // Read-your-writes: a caller that saw sequence N never reads a state older than N.
      if (meta.minSeq !== undefined) await deps.projection.waitFor(meta.minSeq);
      const state = deps.projection.state;
      return { result: queries[name](state, callerOf(meta), body as never), seq: state.seq };
    });
  }
  return out;
}
