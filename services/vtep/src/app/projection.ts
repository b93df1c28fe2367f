/** The vtep controller's state (domain/evolve.ts folded over the domain stream) and the executor that appends its observations. */
import { VTEP_CONTEXT, vtepEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection } from '@strata/service-kit';
import { applyStored, vtepFollows } from '../domain/evolve.js';
import type { NewVtepEvent } from '../domain/learned.js';
import { initialState, type VtepState } from '../domain/state.js';

export type VtepProjection = Projection<VtepState>;

export function vtepProjection(store: EventStore, logger: Logger, initial: VtepState | undefined, onApplied: (s: VtepState, e: StoredEvent) => void): VtepProjection {
  return new Projection<VtepState>({
    store,
    logger,
    subject: vtepFollows.subject,
    initial: initial ?? initialState(),
    decode: (stored) => stored,
    evolve: applyStored,
    onApplied,
  });
}

export const vtepExecutor = (store: EventStore, projection: VtepProjection, onConflict: () => void): Executor<VtepState, NewVtepEvent> =>
  new Executor<VtepState, NewVtepEvent>({ store, projection, context: VTEP_CONTEXT, encode: (type, data) => vtepEvents.encode(type, data), onConflict });
