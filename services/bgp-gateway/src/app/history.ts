/** Where the gateway's `history` answers come from: the store, its own fold from its empty state, and its resource views. */
import { BGP_CONTEXT } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { HistorySource } from '@strata/service-kit';
import { applyStored } from '../domain/evolve.js';
import { bgpResourceView } from '../domain/history.js';
import { initialState, type BgpState } from '../domain/state.js';

export const bgpHistory = (store: EventStore): HistorySource<BgpState> => ({
  store,
  context: BGP_CONTEXT,
  initial: initialState,
  fold: applyStored,
  view: bgpResourceView,
});
