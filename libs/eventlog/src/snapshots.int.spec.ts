import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { startStrataNats, type StrataNats } from '@strata/testing';
import { SnapshotFormatError, SnapshotStore, snapshotBucket } from './snapshots.js';

/** Production users: the operator (admin) creates IPAM's bucket, IPAM saves and loads as ipam. */
const BUCKET = snapshotBucket('ipam');

describe('SnapshotStore on JetStream object store', () => {
  let nats: StrataNats;
  let nc: NatsConnection;
  let store: SnapshotStore;

  beforeAll(async () => {
    nats = await startStrataNats();
    await SnapshotStore.open(await nats.connect('admin'), { bucket: BUCKET });
    nc = await nats.connect('ipam');
    store = await SnapshotStore.open(nc, { bucket: BUCKET });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("another service's user can neither open nor write IPAM's bucket", async () => {
    const other = await nats.connect('secgroup');
    await store.save('ipam', { seq: 1, schemaVersion: 1, state: { mine: true } });
    const theirs = await SnapshotStore.open(other, { bucket: BUCKET });
    await expect(theirs.load('ipam')).rejects.toThrow();
    await expect(theirs.save('ipam', { seq: 2, schemaVersion: 1, state: { forged: true } })).rejects.toThrow();
    expect((await store.load('ipam'))!.state).toEqual({ mine: true });
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
    const info = await (await nc.jetstream().views.os(BUCKET)).info('big');
    expect(info!.size).toBeGreaterThan(2 * 1024 * 1024);
    expect(info!.chunks).toBeGreaterThan(4);
  });

  it('refuses a format-1 snapshot (one JSON document) without reading it all', async () => {
    const os = await nc.jetstream().views.os(BUCKET);
    const doc = JSON.stringify({ seq: 3, schemaVersion: 1, savedAt: '2026-01-01T00:00:00.000Z', state: { x: 'y'.repeat(3_000_000) } });
    await os.putBlob({ name: 'v1', options: { max_chunk_size: 128 * 1024 } }, new TextEncoder().encode(doc));
    await expect(store.load('v1')).rejects.toBeInstanceOf(SnapshotFormatError);
    await expect(store.load('v1')).rejects.toThrow(/format 1/);
    // The connection is still usable (the abandoned object read was cancelled).
    await store.save('v1', { seq: 4, schemaVersion: 1, state: { ok: true } });
    expect((await store.load('v1'))!.state).toEqual({ ok: true });
  });

  it('keeps 4-byte UTF-8 characters intact across object chunks', async () => {
    // 1.5M emoji = 6 MB in one line: characters straddle the 512 KiB chunk boundaries for one of the two offsets.
    const emoji = '🚀'.repeat(1_500_000);
    for (const text of [emoji, `x${emoji}`]) {
      await store.save('emoji', { seq: 7, schemaVersion: 1, state: { text } });
      expect((await store.load<{ text: string }>('emoji'))!.state.text === text).toBe(true);
    }
  });

  it(`saves and loads a ~${BIG_MB} MB state of many small entries, far beyond the line limit, through the real object store`, async () => {
    // A 1 MiB line limit stands in for V8's string cap: the state is many times larger, no line is.
    const limited = await SnapshotStore.open(nc, { bucket: BUCKET, maxLineChars: 1024 * 1024 });
    const state = bigState(BIG_MB * 1024 * 1024);
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    try {
      const t0 = performance.now();
      const saved = await limited.save('huge', { seq: 123_456, schemaVersion: 7, state });
      const t1 = performance.now();
      const loaded = await limited.load<BigState>('huge');
      const t2 = performance.now();
      console.log(
        `snapshot of ${(saved.bytes / 2 ** 20).toFixed(0)} MiB in ${saved.lines} lines: ` +
          `serialise ${saved.encodeMs.toFixed(0)} ms (sync), upload ${saved.writeMs.toFixed(0)} ms, load ${(t2 - t1).toFixed(0)} ms, total ${((t2 - t0) / 1000).toFixed(1)} s; ` +
          `heap before ${(heapBefore / 2 ** 20).toFixed(0)} MiB, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
      );
      expect(saved.bytes).toBeGreaterThan(BIG_MB * 1024 * 1024 * 0.9);
      expect(saved.bytes).toBeGreaterThan(40 * 1024 * 1024);
      expect(loaded!.seq).toBe(123_456);
      expect(loaded!.schemaVersion).toBe(7);
      // Compared piece by piece: one JSON.stringify of the whole state is exactly what must not be needed.
      expect(Object.keys(loaded!.state.networks)).toEqual(Object.keys(state.networks));
      for (const id of Object.keys(state.networks)) {
        expect(JSON.stringify(loaded!.state.networks[id])).toBe(JSON.stringify(state.networks[id]));
      }
      expect(JSON.stringify(loaded!.state.portNetwork)).toBe(JSON.stringify(state.portNetwork));
      const info = await (await nc.jetstream().views.os(BUCKET)).info('huge');
      expect(info!.size).toBe(saved.bytes);
    } finally {
      clearInterval(sampler);
      await (await nc.jetstream().views.os(BUCKET)).delete('huge');
    }
  });
});

/**
 * Size of the big-state test. 50 MB keeps it well under a minute on a loaded
 * 2-core machine (most of the time is nats.js's JavaScript SHA-256 of the
 * object, both ways); SNAPSHOT_TEST_MB=200 runs the 200 MB version.
 */
const BIG_MB = Number(process.env['SNAPSHOT_TEST_MB'] ?? 50);

interface BigState {
  seq: number;
  networks: Record<string, { version: number; ports: Record<string, { id: string; name: string; mac: string; fixedIps: { subnetId: string; ip: string }[]; hostId: null }> }>;
  portNetwork: Record<string, string>;
}

/** IPAM-shaped: networks of 1,000 small ports (~250 B of JSON each), plus a flat index of every port. */
function bigState(bytes: number): BigState {
  const state: BigState = { seq: 123_456, networks: {}, portNetwork: {} };
  const ports = Math.ceil(bytes / 300);
  for (let i = 0; i < ports; i++) {
    const n = Math.floor(i / 1000);
    const networkId = `aaaaaaaa-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    const net = (state.networks[networkId] ??= { version: i, ports: {} });
    const id = `cccccccc-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    net.ports[id] = {
      id,
      name: i % 100 === 0 ? `ünïcødé-${i} 🚀` : `vm-${i}`,
      mac: `02:53:54:${((i >> 16) & 255).toString(16)}:${((i >> 8) & 255).toString(16)}:${(i & 255).toString(16)}`,
      fixedIps: [{ subnetId: networkId, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      hostId: null,
    };
    state.portNetwork[id] = networkId;
  }
  return state;
}
