/** The gateway's NATS operations: commands through the executor, queries straight from the projection. */
import { bgpCommands, bgpQueries, type BgpCommandName, type BgpQueryName } from '@strata/contracts';
import { handler, type Handler } from '@strata/runtime';
import { clientCommand, projectionQueryHandlers, stateDigest, type QueryFn } from '@strata/service-kit';
import { deciders, type Caller, type Decision } from '../domain/decide/index.js';
import * as q from '../domain/queries.js';
import type { BgpState } from '../domain/state.js';
import type { BgpExecutor, BgpProjection } from './projection.js';

export interface HandlerDeps {
  executor: BgpExecutor;
  projection: BgpProjection;
}

/** The view each command answers with, read from the state that includes its write. */
const answers: { [K in BgpCommandName]: (s: BgpState, c: Caller, id: string) => unknown } = {
  'settings.set': (s, c) => q.getSettings(s, c),
  'peer.create': (s, c, id) => q.getPeer(s, c, { id }),
  'peer.delete': (_s, _c, id) => ({ id }),
  'peergroup.create': (s, c, id) => q.getPeerGroup(s, c, { id }),
  'peergroup.delete': (_s, _c, id) => ({ id }),
  'appliance.assign': (s, c, id) => q.getAssignment(s, c, id),
  'appliance.unassign': (_s, _c, id) => ({ id }),
};

export function commandHandlers(deps: HandlerDeps): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  for (const name of Object.keys(bgpCommands) as BgpCommandName[]) {
    const decide = deciders[name] as (s: BgpState, cmd: unknown, ctx: { caller: Caller }) => Decision;
    out[name] = handler(bgpCommands[name], async (body, meta, ctx) => {
      const command = clientCommand(name, body, meta, ctx.trace);
      const done = await deps.executor.execute((s) => decide(s, body, { caller: command.caller }), command);
      return { result: answers[name](deps.projection.state, command.caller, done.resourceId), seq: done.seq };
    });
  }
  return out;
}

const queries: { [K in BgpQueryName]: QueryFn<BgpState> } = {
  'settings.get': q.getSettings,
  'peer.get': q.getPeer,
  'peer.list': q.listPeers,
  'peergroup.get': q.getPeerGroup,
  'peergroup.list': q.listPeerGroups,
  'appliance.list': q.listAssignments,
  'route.list': q.listRoutes,
  'advertisement.list': q.listAdvertisements,
  'state.digest': (s) => stateDigest(s),
};

export const queryHandlers = (deps: HandlerDeps): Record<string, Handler> => projectionQueryHandlers(bgpQueries, queries, deps.projection);
