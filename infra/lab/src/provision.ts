/**
 * The operator's side of NATS security (docs/architecture.md, "NATS
 * security"): every JetStream stream Strata uses is created here, as the
 * admin user, because no service user may create a stream (a user that can
 * create one can capture any subject, the command bus included). Run it
 * before the services start and again when a hypervisor is added:
 *
 *   - the event log (STRATA_EVENTS, libs/eventlog's configuration),
 *   - each snapshotting service's bucket (strata-snapshots-<service>),
 *   - each hypervisor's host-view bucket (strata-hostview-<host>),
 *   - hostview's partition leases (strata_hostview_leases).
 *
 * Each is created with the very call the service would make, so the
 * configuration is the one the code expects. Idempotent.
 */
import type { NatsConnection } from 'nats';
import { startStrataNats, type StrataNats, type StrataNatsOptions } from '@strata/testing';
import { HOSTVIEW_BUCKET_OPTIONS, HOSTVIEW_LEASE_BUCKET, hostviewBucket, hostviewLeaseBucketOptions } from '@strata/contracts';
import { DEFAULT_EVENT_LOG_OPTIONS, ensureEventStream, snapshotBucket, SnapshotStore } from '@strata/eventlog';

/** The services that keep snapshots (infra/nats/render-accounts.mjs grants each its own bucket). */
export const SNAPSHOT_SERVICES = ['ipam', 'secgroup', 'nat', 'chaining', 'status', 'hostview', 'audit'] as const;

export interface ProvisionOptions {
  /** Hypervisor ids: one host-view bucket each. */
  hosts: readonly string[];
}

/** Create what is missing; `nc` must be the admin user's connection. */
export async function provisionStreams(nc: NatsConnection, { hosts }: ProvisionOptions): Promise<void> {
  await ensureEventStream(await nc.jetstreamManager(), DEFAULT_EVENT_LOG_OPTIONS);
  for (const service of SNAPSHOT_SERVICES) await SnapshotStore.open(nc, { bucket: snapshotBucket(service) });
  for (const host of hosts) await nc.jetstream().views.kv(hostviewBucket(host), HOSTVIEW_BUCKET_OPTIONS);
  await nc.jetstream().views.kv(HOSTVIEW_LEASE_BUCKET, hostviewLeaseBucketOptions(leaseReplicas()));
}

/** STRATA_NATS_REPLICAS, read as every process reads it (1 when unset). */
function leaseReplicas(): number {
  const raw = process.env['STRATA_NATS_REPLICAS']?.trim() || '1';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 5) throw new Error(`STRATA_NATS_REPLICAS must be a whole number from 1 to 5, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * nats-server with the production users (startStrataNats) and the operator's
 * streams created: what tests, labs and the demo run against, so they run
 * with the permissions of production.
 */
export async function startProvisionedNats(options: StrataNatsOptions = {}): Promise<StrataNats> {
  const nats = await startStrataNats(options);
  try {
    const admin = await nats.connect('admin');
    await provisionStreams(admin, { hosts: options.agents ?? [] });
    await admin.close();
    return nats;
  } catch (err) {
    await nats.stop();
    throw err;
  }
}
