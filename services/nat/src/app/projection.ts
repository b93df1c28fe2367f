/**
 * The nat state of one instance: the generic projection over the whole
 * domain stream, folded with `applyStored` (nat's events and IPAM's; see
 * domain/evolve.ts), and the executor that appends nat's decisions.
 */
import { NAT_CONTEXT, natEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import { applyStored } from '../domain/evolve.js';
import { initialState, type NatState } from '../domain/state.js';
import type { NewNatEvent } from '../domain/decide/types.js';

export type NatProjection = Projection<NatState>;

/** The projection's fold: nat's state and its request index (replays that must equal the projection use it too). */
export const foldNat = withRequestIndex(NAT_CONTEXT, applyStored);
export type NatExecutor = Executor<NatState, NewNatEvent>;

/**
 * Unfiltered, like secgroup's and for the same reason: nats-server 2.9.10
 * miscounts `num_pending` for a filter equal to the stream's whole subject
 * space when starting past sequence 1 (a restart from a snapshot hung).
 */
export const PROJECTION_SUBJECT: string | undefined = undefined;

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
