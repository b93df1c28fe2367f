/** Where chaining's `history` answers come from: the store, chaining's own fold from its empty state, and its resource views. */
import { CHAINING_CONTEXT } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { HistorySource } from '@strata/service-kit';
import { applyStored } from '../domain/evolve.js';
import { chainingResourceView } from '../domain/history.js';
import { initialState, type ChainingState } from '../domain/state.js';

export const chainingHistory = (store: EventStore): HistorySource<ChainingState> => ({
  store,
  context: CHAINING_CONTEXT,
  initial: initialState,
  fold: applyStored,
  view: chainingResourceView,
});
