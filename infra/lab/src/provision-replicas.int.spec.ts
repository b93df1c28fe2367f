/**
 * STRATA_NATS_REPLICAS on a three-node cluster: the operator's provisioning
 * scales streams and buckets that exist with another replica count in
 * place, and a service configured with another count than the event
 * stream's refuses to start, saying what differs (it may not update the
 * stream, and must not run against a log it misjudges).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamManager, NatsConnection } from 'nats';
import { hostviewStream } from '@strata/contracts';
import { DEFAULT_EVENT_LOG_OPTIONS, JetStreamEventStore, snapshotBucket, snapshotStream } from '@strata/eventlog';
import { waitFor, type StrataNats } from '@strata/testing';
import { provisionStreams, SNAPSHOT_SERVICES, startProvisionedNats } from './provision.js';

const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;

describe('replicas of the provisioned streams on a three-node cluster', () => {
  let nats: StrataNats;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const streams = [STREAM, ...SNAPSHOT_SERVICES.map((s) => snapshotStream(snapshotBucket(s))), hostviewStream('hv1')];

  const replicasOf = async (name: string): Promise<{ configured: number; peers: string[] }> => {
    const info = await jsm.streams.info(name);
    return { configured: info.config.num_replicas, peers: [info.cluster?.leader ?? '', ...(info.cluster?.replicas ?? []).map((r) => r.name)].sort() };
  };

  beforeAll(async () => {
    nats = await startProvisionedNats({ clusterSize: 3, agents: ['hv1'], replicas: 1 });
    admin = await nats.connect('admin');
    jsm = await admin.jetstreamManager();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('provisions with the given count, then scales every existing stream and bucket to another in place', async () => {
    for (const s of streams) expect((await replicasOf(s)).configured, s).toBe(1);
    await provisionStreams(admin, { hosts: ['hv1'], replicas: 3 });
    for (const s of streams) expect((await replicasOf(s)).configured, s).toBe(3);
    // The new peers are placed on the other servers (and the group may elect its leader again).
    for (const s of streams) {
      await waitFor(async () => (await replicasOf(s)).peers.join() === 'n1,n2,n3', { timeoutMs: 30_000, intervalMs: 100, message: `${s} on n1, n2 and n3` });
    }
    // Idempotent: nothing differs, nothing is updated.
    const before = (await jsm.streams.info(STREAM)).config;
    await provisionStreams(admin, { hosts: ['hv1'], replicas: 3 });
    expect((await jsm.streams.info(STREAM)).config).toEqual(before);
  });

  it('a service configured with another replica count refuses to start, saying what differs, and changes nothing', async () => {
    const ipam = await nats.connect('ipam');
    const refused = JetStreamEventStore.open(ipam, { replicas: 1 });
    await expect(refused).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(refused).rejects.toThrow(/stream STRATA_EVENTS differs from this process's configuration: num_replicas is 3, configured 1 \(the replica count is STRATA_NATS_REPLICAS/);
    expect((await replicasOf(STREAM)).configured).toBe(3);
    // With the same count it opens.
    await expect(JetStreamEventStore.open(ipam, { replicas: 3 })).resolves.toBeDefined();
  });
});
