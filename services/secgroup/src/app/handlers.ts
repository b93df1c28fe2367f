/** Secgroup's NATS operations: commands through the executor, queries straight from the projection. */
import { SECGROUP_CONTEXT, secgroupContract, type SecgroupContract } from '@strata/contracts';
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
import { deciders, type CommandContext, type NewSecgroupEvent } from '../domain/decide/index.js';
import { applyStored } from '../domain/evolve.js';
import { auditView } from '../domain/history.js';
import * as q from '../domain/queries.js';
import { initialState, type SecgroupState } from '../domain/state.js';
import type { SecgroupExecutor, SecgroupProjection } from './projection.js';

export interface HandlerDeps {
  executor: SecgroupExecutor;
  projection: SecgroupProjection;
  /** The log `history` replays a resource's aggregate from. */
  store: EventStore;
}

/** A resource's past, rebuilt by secgroup's own fold from its aggregate's events alone (domain/history.ts says what each view shows). */
export const secgroupHistory = (store: EventStore): HistorySource<SecgroupState> => ({
  store,
  context: SECGROUP_CONTEXT,
  initial: initialState,
  fold: applyStored,
  view: auditView,
});

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<SecgroupContract, SecgroupState> = {
  'group.create': (s, c, id) => q.getGroup(s, c, { id }),
  'group.update': (s, c, id) => q.getGroup(s, c, { id }),
  'group.delete': (_s, _c, id) => ({ id }),
  'group.ensureDefault': (s, c, id) => q.getGroup(s, c, { id }),
  'rule.create': (s, c, id) => q.getRule(s, c, id),
  'rule.delete': (_s, _c, id) => ({ id }),
  'port.setGroups': (s, c, id) => q.getPortSecurity(s, c, { portId: id }),
  'port.setSecurity': (s, c, id) => q.getPortSecurity(s, c, { portId: id }),
};

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> =>
  commandHandlersOf<SecgroupContract, SecgroupState, NewSecgroupEvent, CommandContext>(secgroupContract, { ...deps, deciders, context: (caller) => ({ caller }), answers });

const queries = (history: HistorySource<SecgroupState>): QueryAnswers<SecgroupContract, SecgroupState> => ({
  'group.get': q.getGroup,
  'group.list': q.listGroups,
  'rule.get': (s, c, req) => q.getRule(s, c, req.id),
  'port.get': q.getPortSecurity,
  'port.list': q.listPortSecurity,
  'state.digest': (s) => stateDigest(s),
  history: (_s, c, req) => resourceHistory(history, c, req),
});

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(secgroupContract, queries(secgroupHistory(deps.store)), deps.projection);
