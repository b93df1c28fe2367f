/**
 * The operator's side of NATS security (docs/architecture.md, "NATS
 * security"): every JetStream stream Strata uses is created here, as the
 * admin user, because no service user may create a stream (a user that can
 * create one can capture any subject, the command bus included). Run it
 * before the services start and again when a hypervisor is added:
 *
 *   - the event log (STRATA_EVENTS, libs/eventlog's configuration),
 *   - each snapshotting service's bucket (strata-snapshots-<service>),
 *   - each hypervisor's host-view bucket (strata-hostview-<host>).
 *
 * Each is created with the very call the service would make, so the
 * configuration is the one the code expects, with `replicas` replicas
 * (STRATA_NATS_REPLICAS by default); one that exists with another replica
 * count is changed in place (JetStream scales a stream by update).
 * Idempotent.
 */
import type { NatsConnection } from 'nats';
import { startStrataNats, type StrataNats, type StrataNatsOptions } from '@strata/testing';
import { hostviewBucketOptions, hostviewBucket, hostviewStream } from '@strata/contracts';
import { DEFAULT_EVENT_LOG_OPTIONS, ensureEventStream, ensureStreamReplicas, natsReplicas, snapshotBucket, snapshotStream, SnapshotStore } from '@strata/eventlog';

/** The services that keep snapshots (infra/nats/render-accounts.mjs grants each its own bucket). */
export const SNAPSHOT_SERVICES = ['ipam', 'secgroup', 'nat', 'chaining', 'status', 'hostview', 'audit'] as const;

export interface ProvisionOptions {
  /** Hypervisor ids: one host-view bucket each. */
  hosts: readonly string[];
  /** Replicas of every stream and bucket; default natsReplicas() (STRATA_NATS_REPLICAS). */
  replicas?: number;
}

/** Create what is missing; `nc` must be the admin user's connection. */
export async function provisionStreams(nc: NatsConnection, { hosts, replicas = natsReplicas() }: ProvisionOptions): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await ensureEventStream(jsm, { ...DEFAULT_EVENT_LOG_OPTIONS, replicas });
  for (const service of SNAPSHOT_SERVICES) {
    await SnapshotStore.open(nc, { bucket: snapshotBucket(service), replicas });
    await ensureStreamReplicas(jsm, snapshotStream(snapshotBucket(service)), replicas);
  }
  for (const host of hosts) {
    await nc.jetstream().views.kv(hostviewBucket(host), hostviewBucketOptions(replicas));
    await ensureStreamReplicas(jsm, hostviewStream(host), replicas);
  }
}

/**
 * nats-server with the production users (startStrataNats) and the operator's
 * streams created: what tests, labs and the demo run against, so they run
 * with the permissions of production.
 */
export async function startProvisionedNats(options: StrataNatsOptions & { replicas?: number } = {}): Promise<StrataNats> {
  const { replicas, ...serverOptions } = options;
  const nats = await startStrataNats(serverOptions);
  try {
    const admin = await nats.connect('admin');
    await provisionStreams(admin, { hosts: options.agents ?? [], ...(replicas === undefined ? {} : { replicas }) });
    await admin.close();
    return nats;
  } catch (err) {
    await nats.stop();
    throw err;
  }
}
