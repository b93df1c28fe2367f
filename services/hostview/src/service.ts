/**
 * Wires the host-view service: event log → model → per-host views → KV.
 *
 * Scale-out: HOSTVIEW_PARTITION="i/n" splits the hosts into n partitions by
 * the FNV-1a hash of the host id mod n. Each partition's publisher is chosen
 * by a lease (docs/architecture.md, "High availability"; app/leases.ts): an
 * instance takes its own partition i as soon as it is free and any other
 * partition whose lease has run out (no renewal for HOSTVIEW_LEASE_MS), so
 * when an instance dies a survivor republishes its hosts' views within a
 * lease plus a start-up. Every partition an instance publishes folds the
 * whole log (IPAM's, secgroup's, ... events) but computes and writes only
 * its own hosts. HOSTVIEW_LEASE_MS=0 turns leases off: the instance then
 * publishes partition i alone, as before leases (exactly one running
 * instance per partition). Changing n re-assigns hosts; restart every
 * instance with the new value (each start-up reconcile writes the hosts it
 * newly owns).
 */
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { HOSTVIEW_LEASE_BUCKET, hostviewLeaseBucketOptions } from '@strata/contracts';
import { JetStreamEventStore, natsReplicas, snapshotBucket, SnapshotStore } from '@strata/eventlog';
import type { Logger, ServiceDefinition } from '@strata/runtime';
import type { NatsConnection } from 'nats';
import { reportProjectionUp, reportQuarantine } from '@strata/service-kit';
import { Gauge } from 'prom-client';
import { kindOfKey } from './core/derive.js';
import { parsePartition, type Partition } from './core/partition.js';
import { AuditSnapshots, jetStreamObjectNames } from './app/audit-snapshots.js';
import { PartitionLeases } from './app/leases.js';
import { runPartition, type PartitionDeps, type PartitionRunner } from './app/partition-runner.js';

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
  /**
   * A partition lease's length: renewed every third of it; a partition whose
   * lease was not renewed for this long is taken over. 0: no leases, publish
   * HOSTVIEW_PARTITION's partition alone.
   */
  HOSTVIEW_LEASE_MS: z.coerce.number().int().min(0).max(300_000).refine((v) => v === 0 || v >= 600, 'at least 600 ms, or 0 for no leases').default(6_000),
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
    const auditSaves = metrics.counter('strata_hostview_audit_snapshots_saved_total', 'audit snapshots of the model saved');
    const partitionChanges = metrics.counter('strata_hostview_partition_changes_total', 'partitions this instance started or stopped publishing', ['change']);

    const { index, count } = config.HOSTVIEW_PARTITION;
    let leases: PartitionLeases | undefined;
    const deps: PartitionDeps = {
      nc,
      store: await JetStreamEventStore.open(nc),
      snapshots: await openAuditSnapshots(nc, logger),
      settings: {
        writeConcurrency: config.HOSTVIEW_WRITE_CONCURRENCY,
        positionsWaitMs: config.HOSTVIEW_POSITIONS_WAIT_MS,
        auditSnapshotEvery: config.HOSTVIEW_AUDIT_SNAPSHOT_EVERY,
        auditSnapshotKeep: config.HOSTVIEW_AUDIT_SNAPSHOT_KEEP,
        atMaxReplay: config.HOSTVIEW_AT_MAX_REPLAY,
        atMaxQueued: config.HOSTVIEW_AT_MAX_QUEUED,
      },
      logger,
      onWritten: (op) => written.inc({ op: op.op, kind: kindOfKey(op.key) }),
      onApplied: (update) => {
        events.inc({ phase: update ? 'live' : 'replay' });
        if (update) {
          recomputed.observe(update.hostsRecomputed);
          if (update.fullRecomputes > 0) full.inc(update.fullRecomputes);
        }
      },
      onAuditSaved: () => auditSaves.inc(),
      // With leases, every write is checked against its partition's lease at the instant it is sent (app/publisher.ts).
      mayWrite: (i) => leases === undefined || leases.valid(i),
    };
    const runners = new Map<number, PartitionRunner>();
    // Ready when every partition it publishes is (an instance publishing none is a ready standby).
    readiness.register('hostview', () => [...runners.values()].every((r) => r.projection?.ready === true));
    // Every partition folds the same log, so any one's quarantine is the instance's.
    reportQuarantine({ metrics, readiness }, 'hostview', () => [...runners.values()][0]?.projection?.quarantine);
    // Each running partition's projection still follows the log (strata_projection_up: the alert "a projection that stopped").
    reportProjectionUp(metrics, 'hostview', () => [...runners.values()].every((r) => r.projection?.healthy !== false));
    // Each published host's view position; an agent's strata_agent_applied_position below it for long is a host behind on its view.
    new Gauge({
      name: 'strata_hostview_host_position',
      help: "the log position of the latest change to each published host's view (what its <host>.position.view becomes)",
      labelNames: ['host'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const r of runners.values()) for (const { hostId, position } of r.projection?.hostPositions() ?? []) this.set({ host: hostId }, position);
      },
    });

    const publish = async (i: number): Promise<void> => {
      const runner = runPartition(deps, { index: i, count });
      runners.set(i, runner);
      partitionChanges.inc({ change: 'started' });
      // A start-up cut short by the lease's loss (onLost took the runner away) is no failure.
      await runner.started.catch((err: unknown) => {
        if (runners.get(i) === runner) throw err;
      });
    };
    if (config.HOSTVIEW_LEASE_MS === 0) {
      await publish(index).catch(async (err: unknown) => {
        await runners.get(index)?.stop();
        throw err;
      });
      return async () => {
        for (const r of runners.values()) await r.stop();
      };
    }

    const bucket = await nc.jetstream().views.kv(HOSTVIEW_LEASE_BUCKET, hostviewLeaseBucketOptions(natsReplicas()));
    const partitionLeases = new PartitionLeases({
      bucket,
      self: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
      count,
      preferred: index,
      ttlMs: config.HOSTVIEW_LEASE_MS,
      logger,
      onGained: publish,
      onLost: async (i) => {
        const runner = runners.get(i);
        runners.delete(i);
        partitionChanges.inc({ change: 'stopped' });
        await runner?.abandon();
      },
    });
    leases = partitionLeases;
    await partitionLeases.start();
    logger.info({ partition: `${index}/${count}`, publishing: partitionLeases.held().map((i) => `${i}/${count}`), leaseMs: config.HOSTVIEW_LEASE_MS }, 'partition leases checked');
    return async () => {
      await partitionLeases.stop(async (i) => {
        const runner = runners.get(i);
        runners.delete(i);
        await runner?.stop();
      });
    };
  },
};
