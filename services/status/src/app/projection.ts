/**
 * The status state of one instance: the generic projection over the whole
 * domain stream (status's own events and the other contexts' it follows;
 * see domain/evolve.ts), and the executor that appends its liveness
 * decisions.
 */
import { STATUS_CONTEXT, statusEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection } from '@strata/service-kit';
import { applyStored, statusFollows } from '../domain/evolve.js';
import type { NewStatusEvent } from '../domain/liveness.js';
import { initialState, type StatusState } from '../domain/state.js';

export type StatusProjection = Projection<StatusState>;
export type StatusExecutor = Executor<StatusState, NewStatusEvent>;

/** The feed's subject filter: none, as for every reader of several contexts (eventlog's `feedFilter` says why). */
export const PROJECTION_SUBJECT: string | undefined = statusFollows.subject;

export function statusProjection(
  store: EventStore,
  logger: Logger,
  initial: StatusState | undefined,
  onApplied: (s: StatusState, e: StoredEvent) => void,
): StatusProjection {
  return new Projection<StatusState>({
    store,
    logger,
    subject: PROJECTION_SUBJECT,
    initial: initial ?? initialState(),
    decode: (stored) => stored,
    evolve: applyStored,
    onApplied,
  });
}

export const statusExecutor = (store: EventStore, projection: StatusProjection, onConflict: () => void): StatusExecutor =>
  new Executor<StatusState, NewStatusEvent>({ store, projection, context: STATUS_CONTEXT, encode: (type, data) => statusEvents.encode(type, data), onConflict });
