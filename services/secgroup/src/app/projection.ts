/**
 * The secgroup state of one instance: the generic projection over the whole
 * domain stream, folding with `applyStored` (secgroup's events and IPAM's
 * port events; see domain/evolve.ts for why one feed).
 */
import { SECGROUP_CONTEXT, secgroupEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import { applyStored } from '../domain/evolve.js';
import { initialState, type SecgroupState } from '../domain/state.js';
import type { NewSecgroupEvent } from '../domain/decide/types.js';

export type SecgroupProjection = Projection<SecgroupState>;

/** The projection's fold: secgroup's state and its request index (replays that must equal the projection use it too). */
export const foldSecgroup = withRequestIndex(SECGROUP_CONTEXT, applyStored);
export type SecgroupExecutor = Executor<SecgroupState, NewSecgroupEvent>;

/**
 * Everything in the domain stream (which captures exactly `strata.evt.>`),
 * read WITHOUT a filter subject: nats-server 2.9.10 miscounts `num_pending`
 * for a consumer whose filter equals the stream's whole subject space and
 * that starts past sequence 1 (seen: the last message reports 1 pending),
 * and the event store's "caught up" waits for a message reporting 0 — a
 * restart from a snapshot then never became ready. Unfiltered counts right.
 */
export const PROJECTION_SUBJECT: string | undefined = undefined;

export function secgroupProjection(options: {
  store: EventStore;
  logger: Logger;
  initial?: SecgroupState | undefined;
  onApplied?: (state: SecgroupState, event: StoredEvent) => void;
}): SecgroupProjection {
  return new Projection<SecgroupState>({
    store: options.store,
    logger: options.logger,
    subject: PROJECTION_SUBJECT,
    initial: options.initial ?? initialState(),
    // `applyStored` decodes what it reads itself (and skips other contexts' events undecoded).
    decode: (stored) => stored,
    evolve: foldSecgroup,
    ...(options.onApplied ? { onApplied: options.onApplied } : {}),
  });
}

export function secgroupExecutor(options: { store: EventStore; projection: SecgroupProjection; onConflict?: () => void }): SecgroupExecutor {
  return new Executor<SecgroupState, NewSecgroupEvent>({
    store: options.store,
    projection: options.projection,
    context: SECGROUP_CONTEXT,
    encode: (type, data) => secgroupEvents.encode(type, data),
    ...(options.onConflict ? { onConflict: options.onConflict } : {}),
  });
}
