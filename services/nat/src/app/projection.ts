/**
 * The nat state of one instance: the generic projection over the feed
 * `natFollows` names (nat's events and IPAM's; see domain/evolve.ts), folded
 * with `applyStored`, and the executor that appends nat's decisions.
 */
import { NAT_CONTEXT, natEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import { applyStored, natFollows } from '../domain/evolve.js';
import { initialState, type NatState } from '../domain/state.js';
import type { NewNatEvent } from '../domain/decide/types.js';

export type NatProjection = Projection<NatState>;

/** The projection's fold: nat's state and its request index (replays that must equal the projection use it too). */
export const foldNat = withRequestIndex(NAT_CONTEXT, applyStored);
export type NatExecutor = Executor<NatState, NewNatEvent>;

/** The feed's subject filter: none, as for every reader of several contexts (eventlog's `feedFilter` says why). */
export const PROJECTION_SUBJECT: string | undefined = natFollows.subject;

export function natProjection(store: EventStore, logger: Logger, initial: NatState | undefined, onApplied: (s: NatState, e: StoredEvent) => void): NatProjection {
  return new Projection<NatState>({
    store,
    logger,
    subject: PROJECTION_SUBJECT,
    initial: initial ?? initialState(),
    // `applyStored` decodes what it reads itself (and skips other contexts' events undecoded).
    decode: (stored) => stored,
    evolve: foldNat,
    onApplied,
  });
}

export const natExecutor = (store: EventStore, projection: NatProjection, onConflict: () => void): NatExecutor =>
  new Executor<NatState, NewNatEvent>({ store, projection, context: NAT_CONTEXT, encode: (type, data) => natEvents.encode(type, data), onConflict });
