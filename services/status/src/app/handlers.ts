/** The status service's NATS queries (it has no commands): each answer scopes to the caller, then derives through the reader. */
import { STATUS_CONTEXT, statusContract, type StatusContract } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { Handler } from '@strata/runtime';
import { NotFoundError } from '@strata/errors';
import { mapBounded, page, queryHandlers as queryHandlersOf, requireAdmin, resourceHistory, stateDigest, type QueryAnswers } from '@strata/service-kit';
import { applyStored } from '../domain/evolve.js';
import { historyView } from '../domain/history.js';
import { initialState } from '../domain/state.js';
import { knownHosts } from '../domain/hypervisor.js';
import { knownHypervisor, visiblePort, visibleResource } from '../domain/scope.js';
import type { StatusState } from '../domain/state.js';
import type { StatusProjection } from './projection.js';
import { HOSTVIEW_CONCURRENCY } from './hostview.js';
import type { StatusReader } from './reader.js';

export function answers(reader: StatusReader, store: EventStore): QueryAnswers<StatusContract, StatusState> {
  return {
    'port.status': async (s, c, q) => {
      // Scope first: one port the caller may not see and the request answers NotFound, naming nothing else.
      for (const id of q.ids) visiblePort(s, c, id);
      const items = await mapBounded(q.ids, HOSTVIEW_CONCURRENCY, async (id) => {
        const status = await reader.port(s, id);
        if (status === undefined) throw new NotFoundError('port', id);
        return status;
      });
      return { items };
    },
    'resource.realisation': async (s, c, q) => {
      visibleResource(s, c, q);
      return reader.resource(s, q);
    },
    barrier: async (s, c, q) => {
      requireAdmin(c, 'the whole-cloud barrier');
      return reader.barrier(s, q.position);
    },
    'hypervisor.get': async (s, c, q) => {
      requireAdmin(c, 'hypervisor status');
      knownHypervisor(s, q.id);
      return reader.hypervisor(s, q.id, await reader.viewPositions(s));
    },
    'hypervisor.list': async (s, c, q) => {
      requireAdmin(c, 'hypervisor status');
      const p = page(knownHosts(s).map((id) => ({ id })), q);
      const positions = p.items.length > 0 ? await reader.viewPositions(s) : undefined;
      return { items: p.items.map(({ id }) => reader.hypervisor(s, id, positions)), next: p.next };
    },
    'state.digest': (s) => stateDigest(s),
    history: (_s, c, q) => resourceHistory({ store, context: STATUS_CONTEXT, initial: initialState, fold: applyStored, view: historyView }, c, q),
  };
}

export const queryHandlers = (projection: StatusProjection, reader: StatusReader, store: EventStore): Record<string, Handler> =>
  queryHandlersOf(statusContract, answers(reader, store), projection);
