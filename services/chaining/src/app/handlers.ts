/** Chaining's NATS operations: commands through the executor, queries straight from the projection. */
import { chainingContract, type ChainingContract } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { Handler } from '@strata/runtime';
import { commandHandlers as commandHandlersOf, queryHandlers as queryHandlersOf, resourceHistory, stateDigest, type CommandAnswers, type QueryAnswers } from '@strata/service-kit';
import { activateNewGroup, deciders, settleActiveMember, type CommandContext, type NewChainingEvent } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { ChainingState } from '../domain/state.js';
import { chainingHistory } from './history.js';
import type { ChainingExecutor, ChainingProjection } from './projection.js';

export interface HandlerDeps {
  executor: ChainingExecutor;
  projection: ChainingProjection;
  /** The log `history` reads a resource's aggregate from. */
  store: EventStore;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<ChainingContract, ChainingState> = {
  'function.create': (s, c, id) => q.getFunction(s, c, { id }),
  'function.update': (s, c, id) => q.getFunction(s, c, { id }),
  'function.delete': (_s, _c, id) => ({ id }),
  'group.create': (s, c, id) => q.getGroup(s, c, { id }),
  'group.update': (s, c, id) => q.getGroup(s, c, { id }),
  'group.delete': (_s, _c, id) => ({ id }),
  'classifier.create': (s, c, id) => q.getClassifier(s, c, { id }),
  'classifier.update': (s, c, id) => q.getClassifier(s, c, { id }),
  'classifier.delete': (_s, _c, id) => ({ id }),
  'chain.create': (s, c, id) => q.getChain(s, c, { id }),
  'chain.update': (s, c, id) => q.getChain(s, c, { id }),
  'chain.delete': (_s, _c, id) => ({ id }),
};

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> =>
  commandHandlersOf<ChainingContract, ChainingState, NewChainingEvent, CommandContext>(chainingContract, {
    ...deps,
    deciders,
    context: (caller) => ({ caller }),
    answers,
    // An active-standby group gets its first active member (`initial`) right after its creation, as a step of the same request.
    // An update that takes the active member out of the group moves traffic to the next healthy one, in the same request.
    twoStep: {
      'group.create': { first: 'create', second: 'activate', decide: activateNewGroup },
      'group.update': { first: 'update', second: 'settle', decide: settleActiveMember },
    },
  });

const queries = (deps: HandlerDeps): QueryAnswers<ChainingContract, ChainingState> => ({
  'function.get': q.getFunction,
  'function.list': q.listFunctions,
  'group.get': q.getGroup,
  'group.list': q.listGroups,
  'classifier.get': q.getClassifier,
  'classifier.list': q.listClassifiers,
  'chain.get': q.getChain,
  'chain.list': q.listChains,
  'state.digest': (s) => stateDigest(s),
  // Not from the live state: the resource's aggregate folded again from the log, up to the asked position.
  history: (_s, c, req) => resourceHistory(chainingHistory(deps.store), c, req),
});

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(chainingContract, queries(deps), deps.projection);
