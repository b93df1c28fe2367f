/**
 * The secgroup state of one instance: the generic projection over the feed
 * `secgroupFollows` names (secgroup's events and IPAM's port lifecycle; see
 * domain/evolve.ts), folding with `applyStored`.
 */
import { SECGROUP_CONTEXT, secgroupEvents } from '@strata/contracts';
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection, withRequestIndex } from '@strata/service-kit';
import { applyStored, secgroupFollows } from '../domain/evolve.js';
import { initialState, type SecgroupState } from '../domain/state.js';
import type { NewSecgroupEvent } from '../domain/decide/types.js';

export type SecgroupProjection = Projection<SecgroupState>;

/** The projection's fold: secgroup's state and its request index (replays that must equal the projection use it too). */
export const foldSecgroup = withRequestIndex(SECGROUP_CONTEXT, applyStored);
export type SecgroupExecutor = Executor<SecgroupState, NewSecgroupEvent>;

/** The feed's subject filter: none, as for every reader of several contexts (eventlog's `feedFilter` says why). */
export const PROJECTION_SUBJECT: string | undefined = secgroupFollows.subject;

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
