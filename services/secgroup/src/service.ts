/** Wires secgroup: snapshot → projection → executor → NATS handlers, and the port reactor. */
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { commandSubject, querySubject } from '@strata/contracts';
import { JetStreamEventStore, SnapshotStore } from '@strata/eventlog';
import { serve, type ServiceDefinition } from '@strata/runtime';
import { loadSnapshot, SnapshotPolicy } from '@strata/service-kit';
import { isRelevant } from './domain/evolve.js';
import type { SecgroupState } from './domain/state.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';
import { PortReactor } from './app/port-reactor.js';
import { secgroupExecutor, secgroupProjection } from './app/projection.js';
import { SECGROUP_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const secgroupConfig = z.object({
  /** Save a snapshot after this many applied events; 0 disables snapshots. */
  SECGROUP_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  SECGROUP_USE_SNAPSHOT: bool.default(true),
  /** Run the port reactor (default-group membership, forgetting deleted ports) in this instance. */
  SECGROUP_PORT_REACTOR: bool.default(true),
  /** Ack wait of the reactor's durable consumer (applies when this instance creates it). */
  SECGROUP_REACTOR_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Delay before a failed reactor event is redelivered. */
  SECGROUP_REACTOR_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
});

export const secgroupService: ServiceDefinition<typeof secgroupConfig> = {
  name: 'secgroup',
  config: secgroupConfig,
  async start({ nc, config, logger, metrics, readiness }) {
    const store = await JetStreamEventStore.open(nc);
    const snapshots = await SnapshotStore.open(nc);
    const snapshotPolicy = new SnapshotPolicy<SecgroupState>(snapshots, SECGROUP_SNAPSHOT, config.SECGROUP_SNAPSHOT_EVERY, logger, { metrics });
    const applied = metrics.counter('strata_secgroup_events_applied_total', 'events applied to the secgroup projection');
    const conflicts = metrics.counter('strata_secgroup_conflicts_total', 'optimistic-concurrency conflicts retried');
    const reacted = metrics.counter('strata_secgroup_reactor_events_total', 'IPAM port events handled by the port reactor', ['type', 'outcome']);
    const lastSeq = new Gauge({ name: 'strata_secgroup_projection_seq', help: 'last stream sequence applied', registers: [metrics.registry] });

    const started = Date.now();
    const initial = config.SECGROUP_USE_SNAPSHOT ? await loadSnapshot<SecgroupState>(snapshots, SECGROUP_SNAPSHOT, logger, { metrics }) : undefined;
    const projection = secgroupProjection({
      store,
      logger,
      initial,
      onApplied: (state, event) => {
        lastSeq.set(state.seq);
        // Other contexts' events only move the sequence; they do not count towards snapshots.
        if (!isRelevant(event)) return;
        applied.inc();
        snapshotPolicy.onApplied(state);
      },
    });
    await projection.start();
    logger.info({ seq: projection.state.seq, ms: Date.now() - started, fromSnapshot: initial !== undefined }, 'state rebuilt');
    readiness.register('projection', () => projection.healthy);

    const executor = secgroupExecutor({ store, projection, onConflict: () => conflicts.inc() });
    const deps = { executor, projection };
    const commands = await serve(nc, { subjectPrefix: commandSubject('secgroup', '').slice(0, -1), queue: 'secgroup', logger, metrics, handlers: commandHandlers(deps) });
    const queries = await serve(nc, { subjectPrefix: querySubject('secgroup', '').slice(0, -1), queue: 'secgroup', logger, metrics, handlers: queryHandlers(deps) });

    const reactor = config.SECGROUP_PORT_REACTOR
      ? new PortReactor({
          nc,
          stream: store.options.streamName,
          executor,
          projection,
          logger,
          ackWaitMs: config.SECGROUP_REACTOR_ACK_WAIT_MS,
          retryDelayMs: config.SECGROUP_REACTOR_RETRY_MS,
          onHandled: (type, outcome) => reacted.inc({ type, outcome }),
        })
      : undefined;
    await reactor?.start();

    // Caught up and serving: periodic snapshots from here on (none during the replay above; a
    // snapshot due after a long replay is cut in a later event-loop turn, after the start).
    snapshotPolicy.caughtUp(projection.state);

    return async () => {
      await reactor?.stop();
      await commands.drain();
      await queries.drain();
      await projection.stop();
      if (config.SECGROUP_SNAPSHOT_EVERY > 0) await snapshotPolicy.flush(projection.state);
    };
  },
};
