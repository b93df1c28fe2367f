/** Wires IPAM: snapshot → projection → executor → NATS handlers. */
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { commandSubject, domainEvents, eventFilter, IPAM_CONTEXT, ipamEvents, querySubject, type IpamEvent } from '@strata/contracts';
import { JetStreamEventStore, SnapshotStore, snapshotBucket } from '@strata/eventlog';
import { commandVerifierFrom, serve, type ServiceDefinition } from '@strata/runtime';
import { Executor, isQuarantineRefusal, loadSnapshot, Projection, reportQuarantine, SnapshotPolicy, usableSnapshot, type SnapshotKind } from '@strata/service-kit';
import { finishNetworkDeletion, halfDeletedNetworks, type NewIpamEvent } from './domain/decide/index.js';
import { defaultPolicy, type IpamPolicy } from './domain/policy.js';
import { initialState, type IpamState } from './domain/state.js';
import { foldIpam } from './app/fold.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';

/** Bump when IpamState's shape changes: older snapshots are then ignored and the log replayed. */
export const STATE_SCHEMA_VERSION = 3;
export const IPAM_SNAPSHOT: SnapshotKind = { name: 'ipam', schemaVersion: STATE_SCHEMA_VERSION };

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ipamConfig = z.object({
  IPAM_VNI_MIN: z.coerce.number().int().min(1).max(16_777_215).default(defaultPolicy.vniMin),
  IPAM_VNI_MAX: z.coerce.number().int().min(1).max(16_777_215).default(defaultPolicy.vniMax),
  IPAM_DEFAULT_MTU: z.coerce.number().int().min(576).max(9000).default(defaultPolicy.defaultMtu),
  IPAM_MAC_PREFIX: z.string().regex(/^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/).default(defaultPolicy.macPrefix),
  /** Save a snapshot after this many applied events; 0 disables snapshots. */
  IPAM_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  IPAM_USE_SNAPSHOT: bool.default(true),
});

export const ipamService: ServiceDefinition<typeof ipamConfig> = {
  name: 'ipam',
  config: ipamConfig,
  async start({ nc, config, logger, metrics, readiness }) {
    const verifier = commandVerifierFrom(config, 'ipam');
    const policy: IpamPolicy = {
      vniMin: config.IPAM_VNI_MIN,
      vniMax: config.IPAM_VNI_MAX,
      defaultMtu: config.IPAM_DEFAULT_MTU,
      macPrefix: config.IPAM_MAC_PREFIX,
    };
    if (policy.vniMin > policy.vniMax) throw new Error(`IPAM_VNI_MIN ${policy.vniMin} is above IPAM_VNI_MAX ${policy.vniMax}`);

    const store = await JetStreamEventStore.open(nc, { catalog: domainEvents });
    const snapshots = await SnapshotStore.open(nc, { bucket: snapshotBucket('ipam') });
    const snapshotPolicy = new SnapshotPolicy<IpamState>(snapshots, IPAM_SNAPSHOT, config.IPAM_SNAPSHOT_EVERY, logger, { metrics });
    const applied = metrics.counter('strata_ipam_events_applied_total', 'IPAM events applied to the projection');
    const conflicts = metrics.counter('strata_ipam_conflicts_total', 'optimistic-concurrency conflicts retried');
    const lastSeq = new Gauge({ name: 'strata_ipam_projection_seq', help: 'last stream sequence applied', registers: [metrics.registry] });

    const started = Date.now();
    const initial = config.IPAM_USE_SNAPSHOT ? usableSnapshot(await loadSnapshot<IpamState>(snapshots, IPAM_SNAPSHOT, logger, { metrics }), logger) : undefined;
    // The IPAM state of this instance: from the snapshot, then kept current by an ordered feed of `strata.evt.ipam.>`.
    const projection = new Projection<IpamState, IpamEvent>({
      store,
      logger,
      subject: eventFilter(IPAM_CONTEXT),
      initial: initial ?? initialState(),
      decode: (event) => ipamEvents.decode(event),
      evolve: foldIpam,
      onApplied: (state) => {
        applied.inc();
        lastSeq.set(state.seq);
        snapshotPolicy.onApplied(state);
      },
    });
    await projection.start();
    logger.info({ seq: projection.state.seq, ms: Date.now() - started, fromSnapshot: initial !== undefined }, 'state rebuilt');
    readiness.register('projection', () => projection.healthy);
    reportQuarantine({ metrics, readiness }, 'projection', () => projection.quarantine);

    const executor = new Executor<IpamState, NewIpamEvent>({
      store,
      projection,
      context: IPAM_CONTEXT,
      encode: (type, data) => ipamEvents.encode(type, data),
      onConflict: () => conflicts.inc(),
    });
    // Finish deletions a crash interrupted between their two events.
    for (const networkId of halfDeletedNetworks(projection.state)) {
      const caller = { actor: 'ipam', tenant: '_system', admin: true, requestId: networkId, at: new Date().toISOString() };
      try {
        await executor.execute((s) => finishNetworkDeletion(s, networkId), { caller, correlationId: networkId, step: 'recovered-delete' });
        logger.info({ networkId }, 'completed an interrupted network deletion');
      } catch (err) {
        // A quarantined network stays half-deleted (and refuses commands) rather than keep IPAM from starting.
        if (!isQuarantineRefusal(err)) throw err;
        logger.warn({ networkId, err }, 'interrupted network deletion not completed: the network is quarantined');
      }
    }

    const deps = { executor, projection, policy };
    const commands = await serve(nc, { subjectPrefix: commandSubject('ipam', '').slice(0, -1), queue: 'ipam', logger, metrics, verifier, handlers: commandHandlers(deps) });
    const queries = await serve(nc, { subjectPrefix: querySubject('ipam', '').slice(0, -1), queue: 'ipam', logger, metrics, verifier, handlers: queryHandlers(deps) });

    // Caught up and serving: periodic snapshots from here on (none during the replay above; a
    // snapshot due after a long replay is cut in a later event-loop turn, after the start).
    snapshotPolicy.caughtUp(projection.state);

    return async () => {
      await commands.drain();
      await queries.drain();
      await projection.stop();
      if (config.IPAM_SNAPSHOT_EVERY > 0) await snapshotPolicy.flush(projection.state);
    };
  },
};
