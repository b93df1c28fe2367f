/**
 * The pg-projector service: one PgProjector (active or standby) with the
 * runtime's /metrics and /readyz. Configuration (environment):
 *
 *   STRATA_PG_URL      PostgreSQL connection string (required)
 *   STRATA_PG_SCHEMA   the model's schema (default `strata`)
 *   STRATA_PG_BATCH    most events per transaction (default 500)
 *   STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT  test only: probability (0..1) of
 *                      a kill -9 of this process right after a commit, before
 *                      the acknowledgements (the crash test's hook; 0 in
 *                      production)
 */
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { DEFAULT_EVENT_LOG_OPTIONS, DEFAULT_SUBJECT_PREFIX } from '@strata/eventlog';
import type { ServiceDefinition } from '@strata/runtime';
import { PgProjector } from './projector.js';
import { SCHEMA_NAME } from './schema.js';
import { crashAfterCommit } from './crash-hook.js';

/** The durable consumer of the log that only this service's NATS user may use (infra/nats/render-accounts.mjs). */
export const PG_PROJECTOR_DURABLE = 'pg-projector';

export const pgProjectorConfig = z.object({
  STRATA_PG_URL: z.string().min(1),
  STRATA_PG_SCHEMA: z.string().regex(SCHEMA_NAME, { message: 'must be a plain lower-case SQL identifier (a-z 0-9 _, starting with a letter or _, at most 63)' }).default('strata'),
  STRATA_PG_BATCH: z.coerce.number().int().min(1).max(5000).default(500),
  STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT: z.coerce.number().min(0).max(1).default(0),
});

export const pgProjectorService: ServiceDefinition<typeof pgProjectorConfig> = {
  name: 'pg-projector',
  config: pgProjectorConfig,
  async start({ nc, config, logger, metrics, readiness }) {
    const events = metrics.counter('strata_pg_projector_events_total', 'Events handled, by outcome (applied, or skipped: already in the model)', ['outcome']);
    const batches = metrics.histogram('strata_pg_projector_batch_seconds', 'Time of one batch transaction', [], [0.001, 0.005, 0.02, 0.1, 0.5, 2]);
    const takeovers = metrics.counter('strata_pg_projector_takeovers_total', 'Times this instance became the active projector');
    const active = new Gauge({ name: 'strata_pg_projector_active', help: '1 while this instance is the active projector, 0 while standby', registers: [metrics.registry] });
    const position = new Gauge({ name: 'strata_pg_projector_position', help: 'The model\'s log position as the active instance knows it (its checkpoint at takeover, then after each batch)', registers: [metrics.registry] });
    const connected = readiness.flag('postgres');
    const projector = new PgProjector({
      nc,
      pgUrl: config.STRATA_PG_URL,
      schema: config.STRATA_PG_SCHEMA,
      stream: DEFAULT_EVENT_LOG_OPTIONS.streamName,
      durable: PG_PROJECTOR_DURABLE,
      filter: `${DEFAULT_SUBJECT_PREFIX}.>`,
      batch: config.STRATA_PG_BATCH,
      log: logger,
      onRole(role) {
        // Ready = holding a PostgreSQL session, as the active or as a standby.
        connected.set(true);
        active.set(role === 'active' ? 1 : 0);
        if (role === 'active') takeovers.inc();
      },
      onBatch(b, ms) {
        events.inc({ outcome: 'applied' }, b.applied);
        if (b.skipped > 0) events.inc({ outcome: 'skipped' }, b.skipped);
        batches.observe(ms / 1000);
      },
      onPosition: (seq) => position.set(seq),
      ...(config.STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT > 0 ? { afterCommit: crashAfterCommit(config.STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT) } : {}),
    });
    projector.start();
    return () => projector.stop();
  },
};
