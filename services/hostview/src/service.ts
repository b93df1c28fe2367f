/**
 * Wires the host-view service: event log → model → per-host views → KV.
 *
 * Scale-out: run several instances with HOSTVIEW_PARTITION="0/3", "1/3",
 * "2/3". Each reads the whole log (IPAM's and secgroup's events) but owns,
 * computes and writes only the hosts whose FNV-1a hash of the host id mod 3
 * is its index. Exactly
 * one running instance per partition: two writers of one partition would
 * race each other's writes (each still converges at its next start-up).
 * Changing n re-assigns hosts; restart every instance with the new value
 * (each start-up reconcile then writes the hosts it newly owns).
 */
import { z } from 'zod';
import { JetStreamEventStore, snapshotBucket, SnapshotStore } from '@strata/eventlog';
import type { Logger, ServiceDefinition } from '@strata/runtime';
import type { NatsConnection } from 'nats';
import { reportProjectionUp, reportQuarantine } from '@strata/service-kit';
import { Gauge } from 'prom-client';
import { kindOfKey } from './core/derive.js';
import { owner, parsePartition, type Partition } from './core/partition.js';
import { HostviewProjection } from './app/projection.js';
import { servePositions } from './app/positions-query.js';
import { serveAt } from './app/at-query.js';
import { AuditSnapshotPolicy, AuditSnapshots, jetStreamObjectNames } from './app/audit-snapshots.js';
import { KvPublisher } from './app/publisher.js';

const partition = z.string().transform((text, ctx): Partition => {
  try {
    return parsePartition(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

export const hostviewConfig = z.object({
  /** "i/n": this instance owns the hosts whose stable hash mod n is i. */
  HOSTVIEW_PARTITION: partition.default({ index: 0, count: 1 }),
  /** KV writes in flight at once (each awaits its ack). */
  HOSTVIEW_WRITE_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(64),
  /** How long a positions query waits for the model to reach its minSeq (then UNAVAILABLE). */
  HOSTVIEW_POSITIONS_WAIT_MS: z.coerce.number().int().min(1).max(60_000).default(2_000),
  /** Save the model as an audit snapshot every this many events (partition 0 only; 0: never). */
  HOSTVIEW_AUDIT_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(10_000),
  /** Audit snapshots kept (the oldest are deleted). */
  HOSTVIEW_AUDIT_SNAPSHOT_KEEP: z.coerce.number().int().min(1).max(100_000).default(50),
  /** Most events a host-at query may replay (from the audit snapshot it starts from); more is refused. */
  HOSTVIEW_AT_MAX_REPLAY: z.coerce.number().int().min(1).default(5_000_000),
  /** Host-at queries that may wait behind the one being answered; more are refused (UNAVAILABLE). */
  HOSTVIEW_AT_MAX_QUEUED: z.coerce.number().int().min(0).max(1000).default(4),
});

/** The audit snapshots in hostview's bucket; undefined (with a warning) when the bucket cannot be opened: the at query then replays from the start. */
async function openAuditSnapshots(nc: NatsConnection, logger: Logger): Promise<AuditSnapshots | undefined> {
  const bucket = snapshotBucket('hostview');
  try {
    const store = await SnapshotStore.open(nc, { bucket });
    return new AuditSnapshots({ store, objects: await jetStreamObjectNames(nc, bucket) }, logger);
  } catch (err) {
    logger.warn({ err, bucket }, 'audit snapshot bucket unavailable: host-at queries replay from the start of the log, and no audit snapshot is saved');
    return undefined;
  }
}

export const hostviewService: ServiceDefinition<typeof hostviewConfig> = {
  name: 'hostview',
  config: hostviewConfig,
  async start({ nc, config, logger, metrics, readiness }) {
    const events = metrics.counter('strata_hostview_events_applied_total', 'IPAM and secgroup events applied to the host-view model', ['phase']);
    const written = metrics.counter('strata_hostview_keys_written_total', 'host-view KV writes acknowledged', ['op', 'kind']);
    const recomputed = metrics.histogram(
      'strata_hostview_hosts_recomputed',
      'hosts whose view was recomputed per live event',
      [],
      [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000],
    );
    const full = metrics.counter('strata_hostview_full_recomputes_total', 'hosts recomputed in full (needs changed, registration changed)');

    const { index, count } = config.HOSTVIEW_PARTITION;
    const store = await JetStreamEventStore.open(nc);
    const snapshots = await openAuditSnapshots(nc, logger);
    const auditSaves = metrics.counter('strata_hostview_audit_snapshots_saved_total', 'audit snapshots of the model saved');
    // One writer is enough: every partition folds the whole model.
    const policy =
      snapshots && index === 0 && config.HOSTVIEW_AUDIT_SNAPSHOT_EVERY > 0
        ? new AuditSnapshotPolicy(snapshots, { every: config.HOSTVIEW_AUDIT_SNAPSHOT_EVERY, keep: config.HOSTVIEW_AUDIT_SNAPSHOT_KEEP, logger, onSaved: () => auditSaves.inc() })
        : undefined;
    const publisher = await KvPublisher.open(nc, {
      concurrency: config.HOSTVIEW_WRITE_CONCURRENCY,
      logger,
      onWritten: (op) => written.inc({ op: op.op, kind: kindOfKey(op.key) }),
    });
    const projection = new HostviewProjection({
      store,
      publisher,
      owns: owner(config.HOSTVIEW_PARTITION),
      logger,
      onApplied: (_event, update) => {
        events.inc({ phase: update ? 'live' : 'replay' });
        if (update) {
          policy?.onApplied(projection.model);
          recomputed.observe(update.hostsRecomputed);
          if (update.fullRecomputes > 0) full.inc(update.fullRecomputes);
        }
      },
    });
    readiness.register('hostview', () => projection.ready);
    reportQuarantine({ metrics, readiness }, 'hostview', () => projection.quarantine);
    reportProjectionUp(metrics, 'hostview', () => projection.healthy);
    // Each owned host's view position; an agent's strata_agent_applied_position below it for long is a host behind on its view.
    new Gauge({
      name: 'strata_hostview_host_position',
      help: "the log position of the latest change to each owned host's view (what its <host>.position.view becomes)",
      labelNames: ['host'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const { hostId, position } of projection.hostPositions()) this.set({ host: hostId }, position);
      },
    });

    // Answered from now on: a query waits (bounded) until the views are reconciled and at its minSeq.
    const positions = await servePositions(nc, { source: projection, partition: `${index}/${count}`, waitMs: config.HOSTVIEW_POSITIONS_WAIT_MS, logger });
    const owns = owner(config.HOSTVIEW_PARTITION);
    const at = await serveAt(nc, {
      store,
      snapshots,
      maxReplay: config.HOSTVIEW_AT_MAX_REPLAY,
      owns,
      answersInvalid: index === 0,
      maxQueued: config.HOSTVIEW_AT_MAX_QUEUED,
      logger,
    });
    const started = Date.now();
    const result = await projection.start().catch(async (err: unknown) => {
      await positions.stop();
      await at.stop();
      throw err;
    });
    logger.info(
      { partition: `${index}/${count}`, seq: projection.seq, hosts: projection.views.hosts().length, ...result, ms: Date.now() - started },
      'host views reconciled',
    );
    return async () => {
      await positions.stop();
      await at.stop();
      await projection.stop();
      await policy?.idle();
    };
  },
};
