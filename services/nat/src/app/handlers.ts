/** Nat's NATS operations: commands through the executor, queries straight from the projection. */
import { NAT_CONTEXT, natContract, type NatContract } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { Handler } from '@strata/runtime';
import {
  commandHandlers as commandHandlersOf,
  queryHandlers as queryHandlersOf,
  resourceHistory,
  stateDigest,
  type CommandAnswers,
  type CommandHandling,
  type HistorySource,
  type QueryAnswers,
} from '@strata/service-kit';
import { deciders, type CommandContext, type NewNatEvent } from '../domain/decide/index.js';
import { applyStored } from '../domain/evolve.js';
import { auditView } from '../domain/history.js';
import * as q from '../domain/queries.js';
import { initialState, type NatState } from '../domain/state.js';
import type { NatExecutor, NatProjection } from './projection.js';

export interface HandlerDeps {
  executor: NatExecutor;
  projection: NatProjection;
  /** The log `history` replays a resource's aggregate from. */
  store: EventStore;
}

/** A resource's past, rebuilt by nat's own fold from its aggregate's events alone (domain/history.ts says what each view shows). */
export const natHistory = (store: EventStore): HistorySource<NatState> => ({ store, context: NAT_CONTEXT, initial: initialState, fold: applyStored, view: auditView });

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<NatContract, NatState> = {
  'floatingip.associate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'floatingip.disassociate': (s, c, id) => q.getFloatingIp(s, c, { id }),
  'router.setGateway': (s, c, id) => q.getRouterGateway(s, c, { id }),
};

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> =>
  commandHandlersOf<NatContract, NatState, NewNatEvent, CommandContext>(natContract, { ...deps, deciders, context: (caller) => ({ caller }), answers });

const queries = (history: HistorySource<NatState>): QueryAnswers<NatContract, NatState> => ({
  'floatingip.get': q.getFloatingIp,
  'floatingip.list': q.listFloatingIps,
  'router.get': q.getRouterGateway,
  'state.digest': (s) => stateDigest(s),
  history: (_s, c, req) => resourceHistory(history, c, req),
});

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(natContract, queries(natHistory(deps.store)), deps.projection);
