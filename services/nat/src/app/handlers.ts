/** Nat's NATS operations: commands through the executor, queries straight from the projection. */
import { natContract, type NatContract } from '@strata/contracts';
import type { Handler } from '@strata/runtime';
import { commandHandlers as commandHandlersOf, queryHandlers as queryHandlersOf, stateDigest, type CommandAnswers, type CommandHandling, type QueryAnswers } from '@strata/service-kit';
import { deciders, type CommandContext, type NewNatEvent } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { NatState } from '../domain/state.js';
import type { NatExecutor, NatProjection } from './projection.js';

export interface HandlerDeps {
  executor: NatExecutor;
  projection: NatProjection;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<NatContract, NatState> = {
  'floatingip.associate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'floatingip.disassociate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'router.setGateway': (s, c, id) => q.getRouterGateway(s, c, { id }),
};

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> =>
  commandHandlersOf<NatContract, NatState, NewNatEvent, CommandContext>(natContract, { ...deps, deciders, context: (caller) => ({ caller }), answers });

const queries: QueryAnswers<NatContract, NatState> = {
  'floatingip.get': q.getFloatingIp,
  'floatingip.list': q.listFloatingIps,
  'router.get': q.getRouterGateway,
  'state.digest': (s) => stateDigest(s),
};

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(natContract, queries, deps.projection);
