/**
 * The chaining state of one instance: the generic projection over the whole
 * domain stream (chaining's events, IPAM's and secgroup's it follows; see
 * domain/evolve.ts), folded with `applyStored`, and the executor that appends
 * chaining's decisions.
 */
import { CHAINING_CONTEXT, chainingEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import { applyStored, chainingFollows } from '../domain/evolve.js';
import { initialState, type ChainingState } from '../domain/state.js';
import type { NewChainingEvent } from '../domain/decide/types.js';

export type ChainingProjection = Projection<ChainingState>;
export type ChainingExecutor = Executor<ChainingState, NewChainingEvent>;

/** The projection's fold: chaining's state and its request index (replays that must equal the projection use it too). */
export const foldChaining = withRequestIndex(CHAINING_CONTEXT, applyStored);

/** The feed's subject filter: none, as for every reader of several contexts (eventlog's `feedFilter` says why). */
export const PROJECTION_SUBJECT: string | undefined = chainingFollows.subject;

export function chainingProjection(
  store: EventStore,
  logger: Logger,
  initial: ChainingState | undefined,
  onApplied: (s: ChainingState, e: StoredEvent) => void,
): ChainingProjection {
  return new Projection<ChainingState>({
    store,
    logger,
    subject: PROJECTION_SUBJECT,
    initial: initial ?? initialState(),
    decode: (stored) => stored,
    evolve: foldChaining,
    onApplied,
  });
}

export const chainingExecutor = (store: EventStore, projection: ChainingProjection, onConflict: () => void): ChainingExecutor =>
  new Executor<ChainingState, NewChainingEvent>({ store, projection, context: CHAINING_CONTEXT, encode: (type, data) => chainingEvents.encode(type, data), onConflict });
