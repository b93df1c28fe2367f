/** The gateway's NATS operations: commands through the executor, queries straight from the projection. */
import { bgpContract, type BgpContract } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { Handler } from '@strata/runtime';
import { commandHandlers as commandHandlersOf, queryHandlers as queryHandlersOf, resourceHistory, stateDigest, type CommandAnswers, type CommandHandling, type QueryAnswers } from '@strata/service-kit';
import { deciders, type CommandContext, type NewBgpEvent } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { BgpState } from '../domain/state.js';
import { bgpHistory } from './history.js';
import type { BgpExecutor, BgpProjection } from './projection.js';

export interface HandlerDeps {
  executor: BgpExecutor;
  projection: BgpProjection;
  /** The log `history` reads a resource's aggregate from. */
  store: EventStore;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: CommandAnswers<BgpContract, BgpState> = {
  'settings.set': (s, c) => q.getSettings(s, c),
  'peer.create': (s, c, id) => q.getPeer(s, c, { id }),
  'peer.update': (s, c, id) => q.getPeer(s, c, { id }),
  'peer.delete': (_s, _c, id) => ({ id }),
  'peergroup.create': (s, c, id) => q.getPeerGroup(s, c, { id }),
  'peergroup.update': (s, c, id) => q.getPeerGroup(s, c, { id }),
  'peergroup.delete': (_s, _c, id) => ({ id }),
  'appliance.assign': (s, c, id) => q.getAssignment(s, c, id),
  'appliance.unassign': (_s, _c, id) => ({ id }),
  'federation.set': (s, c) => q.getFederation(s, c),
  'federation.clear': (s, c) => q.getFederation(s, c),
};

export const commandHandlers = (deps: HandlerDeps): Record<string, Handler> =>
  commandHandlersOf<BgpContract, BgpState, NewBgpEvent, CommandContext>(bgpContract, { ...deps, deciders, context: (caller) => ({ caller }), answers });

const queries = (deps: HandlerDeps): QueryAnswers<BgpContract, BgpState> => ({
  'settings.get': q.getSettings,
  'peer.get': q.getPeer,
  'peer.list': q.listPeers,
  'peergroup.get': q.getPeerGroup,
  'peergroup.list': q.listPeerGroups,
  'appliance.list': q.listAssignments,
  'route.list': q.listRoutes,
  'advertisement.list': q.listAdvertisements,
  'federation.get': q.getFederation,
  'state.digest': (s) => stateDigest(s),
  // Not from the live state: the resource's aggregate folded again from the log, up to the asked position.
  history: (_s, c, req) => resourceHistory(bgpHistory(deps.store), c, req),
});

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => queryHandlersOf(bgpContract, queries(deps), deps.projection);
