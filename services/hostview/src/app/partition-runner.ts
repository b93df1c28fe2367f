/**
 * One partition published by this instance: its projection (replay, compute,
 * reconcile its hosts' buckets, then follow the log), its answers to the
 * status service's positions query and to the audit service's host-at query,
 * and (partition 0) the audit snapshots of the model. An instance runs one
 * per partition whose lease it holds (leases.ts), or the one partition it is
 * configured with when leases are off.
 *
 * `stop` is the graceful end (queued writes get a bounded time to be
 * acknowledged); `abandon` is the end of a lost lease: no write is started
 * after it is called (the batch in flight completes), even while the
 * start-up is still under way.
 */
import type { NatsConnection } from 'nats';
import type { EventStore } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import { kindOfKey } from '../core/derive.js';
import { owner, type Partition } from '../core/partition.js';
import type { ViewUpdate } from '../core/views.js';
import { AuditSnapshotPolicy, type AuditSnapshots } from './audit-snapshots.js';
import { serveAt } from './at-query.js';
import { servePositions } from './positions-query.js';
import { HostviewProjection } from './projection.js';
import { KvPublisher } from './publisher.js';
import type { KvOp } from '../core/diff.js';

export interface PartitionSettings {
  writeConcurrency: number;
  positionsWaitMs: number;
  auditSnapshotEvery: number;
  auditSnapshotKeep: number;
  atMaxReplay: number;
  atMaxQueued: number;
}

/** What every partition of the instance shares: connection, log, snapshots, counters. */
export interface PartitionDeps {
  nc: NatsConnection;
  store: EventStore;
  snapshots: AuditSnapshots | undefined;
  settings: PartitionSettings;
  logger: Logger;
  onWritten: (op: KvOp) => void;
  onApplied: (update: ViewUpdate | undefined) => void;
  onAuditSaved: () => void;
  /** Whether partition `index` may be written at this instant (its lease is valid); asked before every KV write. Default: always. */
  mayWrite?: (index: number) => boolean;
}

export interface PartitionRunner {
  readonly partition: Partition;
  readonly projection: HostviewProjection;
  /** Resolves once the partition's views are reconciled and its queries answered; rejects if it stopped first. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
  abandon(): Promise<void>;
}

export function runPartition(deps: PartitionDeps, partition: Partition): PartitionRunner {
  const { nc, store, snapshots, settings } = deps;
  const name = `${partition.index}/${partition.count}`;
  const logger = deps.logger.child({ partition: name });
  const owns = owner(partition);
  // One writer is enough: every partition folds the whole model.
  const policy =
    snapshots && partition.index === 0 && settings.auditSnapshotEvery > 0
      ? new AuditSnapshotPolicy(snapshots, { every: settings.auditSnapshotEvery, keep: settings.auditSnapshotKeep, logger, onSaved: deps.onAuditSaved })
      : undefined;
  let projection!: HostviewProjection;
  let publisher: KvPublisher | undefined;
  let abandoned = false;
  const queries: Array<{ stop(): Promise<void> }> = [];

  const start = async (): Promise<void> => {
    const mayWrite = deps.mayWrite;
    publisher = await KvPublisher.open(nc, {
      concurrency: settings.writeConcurrency,
      logger,
      onWritten: deps.onWritten,
      ...(mayWrite ? { mayWrite: () => mayWrite(partition.index) } : {}),
    });
    if (abandoned) throw new Error(`partition ${name} abandoned while starting`);
    projection = new HostviewProjection({
      store,
      publisher,
      owns,
      logger,
      onApplied: (_event, update) => {
        deps.onApplied(update);
        if (update) policy?.onApplied(projection.model);
      },
    });
    // Answered from now on: a query waits (bounded) until the views are reconciled and at its minSeq.
    queries.push(await servePositions(nc, { source: projection, partition: name, waitMs: settings.positionsWaitMs, logger }));
    queries.push(
      await serveAt(nc, { store, snapshots, maxReplay: settings.atMaxReplay, owns, answersInvalid: partition.index === 0, maxQueued: settings.atMaxQueued, logger }),
    );
    const began = Date.now();
    const result = await projection.start();
    logger.info({ seq: projection.seq, hosts: projection.views.hosts().length, ...result, ms: Date.now() - began }, 'host views reconciled');
  };
  const started = start();
  started.catch(() => undefined);

  const stopQueries = async (): Promise<void> => {
    for (const q of queries.splice(0)) await q.stop();
  };
  return {
    partition,
    get projection() {
      return projection;
    },
    started,
    async stop() {
      await started.catch(() => undefined);
      await stopQueries();
      await projection?.stop();
      await policy?.idle();
    },
    async abandon() {
      abandoned = true;
      // No batch starts from here on; the projection's stop then drops the queue instead of flushing it.
      publisher?.pause();
      await projection?.abandon();
      await started.catch(() => undefined);
      await stopQueries();
      await policy?.idle();
    },
  };
}
