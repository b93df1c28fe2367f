import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { SnapshotStore } from './snapshots.js';

describe('SnapshotStore on JetStream object store', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let store: SnapshotStore;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    store = await SnapshotStore.open(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('loads null for a snapshot never saved', async () => {
    expect(await store.load('nobody')).toBeNull();
  });

  it('round-trips a small snapshot, stamping savedAt', async () => {
    const before = Date.now();
    await store.save('ipam', { seq: 42, schemaVersion: 3, state: { networks: { n1: { cidr: '10.0.0.0/24' } } } });
    const loaded = await store.load('ipam');
    expect(loaded).toMatchObject({ seq: 42, schemaVersion: 3, state: { networks: { n1: { cidr: '10.0.0.0/24' } } } });
    expect(Date.parse(loaded!.savedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('round-trips a state larger than max_payload (> 2 MiB, many chunks), replacing the previous one', async () => {
    const ports = Array.from({ length: 40_000 }, (_, i) => ({
      id: `port-${i}`,
      mac: `fa:16:3e:${(i >> 16) & 255}:${(i >> 8) & 255}:${i & 255}`,
      ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      name: i % 7 === 0 ? 'ünïcødé ✓ 🚀' : 'plain',
    }));
    const state = { ports };
    expect(JSON.stringify(state).length).toBeGreaterThan(2 * 1024 * 1024);
    await store.save('big', { seq: 1, schemaVersion: 1, state: { old: true } });
    await store.save('big', { seq: 40_000, schemaVersion: 1, state });
    const loaded = await store.load<typeof state>('big');
    expect(loaded!.seq).toBe(40_000);
    expect(loaded!.state).toEqual(state);
    const info = await (await nc.jetstream().views.os('strata-snapshots')).info('big');
    expect(info!.size).toBeGreaterThan(2 * 1024 * 1024);
    expect(info!.chunks).toBeGreaterThan(4);
  });

  it('keeps surrogate pairs intact across encoding slices', async () => {
    // 1.5M emoji = 3M UTF-16 units: pairs straddle the 1M-unit slice boundaries for one of the two offsets.
    const emoji = '🚀'.repeat(1_500_000);
    for (const text of [emoji, `x${emoji}`]) {
      await store.save('emoji', { seq: 7, schemaVersion: 1, state: { text } });
      expect((await store.load<{ text: string }>('emoji'))!.state.text === text).toBe(true);
    }
  });
});
