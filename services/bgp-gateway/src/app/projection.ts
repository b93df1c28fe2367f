/** The gateway's state in one instance: the generic projection over the whole domain stream (see domain/evolve.ts). */
import { BGP_CONTEXT, bgpEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import type { NewBgpEvent } from '../domain/decide/types.js';
import { applyStored } from '../domain/evolve.js';
import { initialState, type BgpState } from '../domain/state.js';

export type BgpProjection = Projection<BgpState>;

/** The projection's fold: the gateway's state and its request index. */
export const foldBgp = withRequestIndex(BGP_CONTEXT, applyStored);
export type BgpExecutor = Executor<BgpState, NewBgpEvent>;

export function bgpProjection(options: { store: EventStore; logger: Logger; onApplied?: (state: BgpState, event: StoredEvent) => void }): BgpProjection {
  return new Projection<BgpState>({
    store: options.store,
    logger: options.logger,
    // Unfiltered, like secgroup's (nats-server 2.9 takes one filter; see services/secgroup/src/app/projection.ts).
    subject: undefined,
    initial: initialState(),
    decode: (stored) => stored,
    evolve: foldBgp,
    ...(options.onApplied ? { onApplied: options.onApplied } : {}),
  });
}

export function bgpExecutor(options: { store: EventStore; projection: BgpProjection; onConflict?: () => void }): BgpExecutor {
  return new Executor<BgpState, NewBgpEvent>({
    store: options.store,
    projection: options.projection,
    context: BGP_CONTEXT,
    encode: (type, data) => bgpEvents.encode(type, data),
    ...(options.onConflict ? { onConflict: options.onConflict } : {}),
  });
}
