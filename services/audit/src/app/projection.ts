/** The catalogue of one instance: the generic projection over the whole log, envelope only (domain/catalogue.ts). */
import type { EventStore, StoredEvent } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { Executor, Projection } from '@strata/service-kit';
import { evolve, initialCatalogue, type CatalogueState } from '../domain/catalogue.js';

export type CatalogueProjection = Projection<CatalogueState>;

export function catalogueProjection(
  store: EventStore,
  logger: Logger,
  initial: CatalogueState | undefined,
  onApplied: (s: CatalogueState, e: StoredEvent) => void,
): CatalogueProjection {
  return new Projection<CatalogueState>({
    store,
    logger,
    // Every context's events (eventlog's feedFilter says why a reader of several contexts takes no filter).
    subject: undefined,
    initial: initial ?? initialCatalogue(),
    decode: (stored) => stored,
    evolve,
    onApplied,
  });
}

/** The audit service writes nothing: its executor is never asked to append (the host wires one for every service). */
export const catalogueExecutor = (store: EventStore, projection: CatalogueProjection, onConflict: () => void): Executor<CatalogueState, never> =>
  new Executor<CatalogueState, never>({
    store,
    projection,
    context: 'audit',
    encode: () => {
      throw new Error('the audit service appends no event');
    },
    onConflict,
  });
