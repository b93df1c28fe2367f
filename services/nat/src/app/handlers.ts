/** Nat's NATS operations: commands through the executor, queries straight from the projection. */
import { natCommands, natQueries, type NatCommandName, type NatQueryName } from '@strata/contracts';
import { handler, type Handler } from '@strata/runtime';
import { clientCommand, projectionQueryHandlers, stateDigest, type QueryFn } from '@strata/service-kit';
import { deciders, type Caller, type Decision } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { NatState } from '../domain/state.js';
import type { NatExecutor, NatProjection } from './projection.js';

export interface HandlerDeps {
  executor: NatExecutor;
  projection: NatProjection;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: { [K in NatCommandName]: (s: NatState, c: Caller, id: string) => unknown } = {
  'floatingip.associate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'floatingip.disassociate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'router.setGateway': (s, c, id) => q.getRouterGateway(s, c, { id }),
};

export function commandHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(natCommands) as NatCommandName[]) {
    const decide = deciders[name] as (s: NatState, cmd: unknown, ctx: { caller: Caller }) => Decision;
    out[name] = handler(natCommands[name], async (body, meta, ctx) => {
      const command = clientCommand(name, body, meta, ctx.trace);
      const done = await deps.executor.execute((s) => decide(s, body, { caller: command.caller }), command);
      return { result: answers[name](deps.projection.state, command.caller, done.resourceId), seq: done.seq };
    });
  }
  return out;
}

const queries: { [K in NatQueryName]: QueryFn<NatState> } = {
  'floatingip.get': q.getFloatingIp,
  'floatingip.list': q.listFloatingIps,
  'router.get': q.getRouterGateway,
  'state.digest': (s) => stateDigest(s),
};

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => projectionQueryHandlers(natQueries, queries, deps.projection);
