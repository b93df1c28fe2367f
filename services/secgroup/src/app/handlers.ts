/** Secgroup's NATS operations: commands through the executor, queries straight from the projection. */
import { secgroupCommands, secgroupQueries, type SecgroupCommandName, type SecgroupQueryName } from '@strata/contracts';
import { handler, type Handler } from '@strata/runtime';
import { clientCommand, projectionQueryHandlers, stateDigest, type QueryFn } from '@strata/service-kit';
import { deciders, type Caller, type Decision } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { SecgroupState } from '../domain/state.js';
import type { SecgroupExecutor, SecgroupProjection } from './projection.js';

export interface HandlerDeps {
  executor: SecgroupExecutor;
  projection: SecgroupProjection;
}

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
      const command = clientCommand(name, body, meta, ctx.trace);
      const done = await deps.executor.execute((s) => decide(s, body, { caller: command.caller }), command);
      return { result: answers[name](deps.projection.state, command.caller, done.resourceId), seq: done.seq };
    });
  }
  return out;
}

const queries: { [K in SecgroupQueryName]: QueryFn<SecgroupState> } = {
  'group.get': q.getGroup,
  'group.list': q.listGroups,
  'port.get': q.getPortSecurity,
  'state.digest': (s) => stateDigest(s),
};

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => projectionQueryHandlers(secgroupQueries, queries, deps.projection);
