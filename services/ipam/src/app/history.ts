/** IPAM's answer to `history` (contracts audit/history.ts): its own fold and views over one aggregate's events. */
import { IPAM_CONTEXT, ipamEvents } from '@strata/contracts';
import type { EventStore } from '@strata/eventlog';
import type { HistorySource } from '@strata/service-kit';
import { ipamAuditView } from '../domain/audit-views.js';
import { evolve } from '../domain/evolve.js';
import { initialState, type IpamState } from '../domain/state.js';

/**
 * The projection's fold without its request index (which no view reads):
 * decode with IPAM's registry (an undecodable event throws its
 * EventSchemaError and is reported unreadable), then IPAM's evolve.
 */
export const ipamHistorySource = (store: EventStore): HistorySource<IpamState> => ({
  store,
  context: IPAM_CONTEXT,
  initial: initialState,
  fold: (state, event) => void evolve(state, ipamEvents.decode(event)),
  view: ipamAuditView,
});
