import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from '@strata/errors';
import { encode, InMemorySnapshotStore, SnapshotDecoder, SnapshotFormatError, SnapshotTooLargeError } from './snapshots.js';
import type { SnapshotFormatOptions } from './types.js';

/** A nested state shaped like IPAM's: a few big maps of small records, and small scalars. */
function nestedState(networks: number, ports: number) {
  const state = {
    seq: 1234,
    cloud: { version: 3, networks: {} as Record<string, unknown>, vnis: {} as Record<string, string>, pools: {} },
    networks: {} as Record<string, { version: number; closed: boolean; subnets: Record<string, unknown>; ports: Record<string, unknown>; macs: Record<string, string> }>,
    portNetwork: {} as Record<string, string>,
    empty: {},
    list: [1, 'two', { three: 3 }, null],
  };
  for (let n = 0; n < networks; n++) {
    const id = `net-${n}`;
    state.cloud.networks[id] = { id, name: `Netz ${n} ✓`, vni: 4096 + n, mtu: 1450, routed: n % 2 === 0 };
    state.cloud.vnis[String(4096 + n)] = id;
    const net = { version: n, closed: false, subnets: { [`sub-${n}`]: { cidr: `10.${n}.0.0/20`, allocated: {} as Record<string, string> } }, ports: {} as Record<string, unknown>, macs: {} as Record<string, string> };
    for (let p = 0; p < ports; p++) {
      const portId = `port-${n}-${p}`;
      const mac = `02:00:00:00:${n.toString(16).padStart(2, '0')}:${p.toString(16).padStart(2, '0')}`;
      net.ports[portId] = { id: portId, name: p % 5 === 0 ? 'ünïcødé 🚀' : `vm-${p}`, mac, fixedIps: [{ subnetId: `sub-${n}`, ip: `10.${n}.0.${p}` }], hostId: null };
      net.macs[mac] = portId;
      (net.subnets[`sub-${n}`] as { allocated: Record<string, string> }).allocated[`10.${n}.0.${p}`] = portId;
      state.portNetwork[portId] = id;
    }
    state.networks[id] = net;
  }
  return state;
}

const small: Partial<SnapshotFormatOptions> = { lineChars: 200, maxLineChars: 2_000 };

describe('snapshot format 3 (JSON lines, named, with a checksum)', () => {
  it('round-trips a nested state exactly, key order included, through lines that straddle byte chunks', async () => {
    // 7-byte chunks: lines, and multi-byte UTF-8 characters, are cut across chunks.
    const store = new InMemorySnapshotStore({ ...small, chunkBytes: 7 });
    const state = nestedState(4, 12);
    await store.save('ipam', { seq: 1234, schemaVersion: 2, state });
    const loaded = await store.load<typeof state>('ipam');
    expect(loaded).toMatchObject({ seq: 1234, schemaVersion: 2 });
    expect(JSON.stringify(loaded!.state)).toBe(JSON.stringify(state));
  });

  it('splits large plain objects by key path and batches small entries; header first, trailer last', () => {
    const state = nestedState(3, 10);
    const { lines } = encode('x', { seq: 9, schemaVersion: 1, state }, { lineChars: 300, maxLineChars: 3_000, splitDepth: 8 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 3, name: 'x', seq: 9, schemaVersion: 1 });
    const sha256 = createHash('sha256').update(lines.slice(0, -1).map((l) => `${l}\n`).join(''), 'utf8').digest('hex');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ end: true, lines: lines.length - 2, sha256 });
    const body = lines.slice(1, -1).map((l) => JSON.parse(l) as { path: string[]; entries: Record<string, unknown> });
    const paths = body.map((l) => l.path.join('.'));
    expect(paths).toContain('networks.net-1.ports');
    expect(paths).toContain('networks.net-1.macs');
    // Small records are never split: a port is always a whole entry of its network's `ports`.
    expect(paths.some((p) => /ports\.port-/.test(p))).toBe(false);
    // Several ports share a line.
    expect(Math.max(...body.filter((l) => l.path.at(-1) === 'ports').map((l) => Object.keys(l.entries).length))).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(3_000);
  });

  it('writes and reads a state whose whole JSON is far beyond the line limit, because no line is', async () => {
    const store = new InMemorySnapshotStore({ lineChars: 1_000, maxLineChars: 4_000, chunkBytes: 4_096 });
    const state = nestedState(20, 60);
    expect(JSON.stringify(state).length).toBeGreaterThan(50 * 4_000);
    const saved = await store.save('big', { seq: 1, schemaVersion: 1, state });
    expect(saved.lines).toBeGreaterThan(100);
    expect(saved.bytes).toBeGreaterThan(200_000);
    expect(JSON.stringify((await store.load('big'))!.state)).toBe(JSON.stringify(state));
  });

  it('honours splitDepth: objects deeper than it stay whole', () => {
    const state = nestedState(2, 10);
    const { lines } = encode('x', { seq: 0, schemaVersion: 1, state }, { lineChars: 300, maxLineChars: 100_000, splitDepth: 1 });
    for (const line of lines.slice(1, -1)) expect((JSON.parse(line) as { path: string[] }).path.length).toBeLessThanOrEqual(1);
  });

  it('rejects (does not throw) a save whose unsplittable value exceeds the line limit, and names where', async () => {
    const store = new InMemorySnapshotStore({ lineChars: 100, maxLineChars: 1_000 });
    const save = store.save('x', { seq: 1, schemaVersion: 1, state: { a: { big: Array.from({ length: 500 }, (_, i) => i) } } });
    await expect(save).rejects.toBeInstanceOf(SnapshotTooLargeError);
    await expect(save).rejects.toThrow(/\["a"\]/);
    expect(await store.load('x')).toBeNull();
  });

  it('serialises synchronously inside save(): changes made right after it returns are not in the snapshot', async () => {
    const store = new InMemorySnapshotStore(small);
    const state = nestedState(2, 5);
    const before = JSON.stringify(state);
    const saving = store.save('x', { seq: 5, schemaVersion: 1, state });
    state.networks['net-0']!.ports['port-0-0'] = { changed: true };
    state.seq = 99;
    await saving;
    expect(JSON.stringify((await store.load('x'))!.state)).toBe(before);
  });

  it('round-trips like JSON: Dates become strings, undefined keys vanish, non-object states work', async () => {
    const store = new InMemorySnapshotStore(small);
    const state = { list: [1, 2], when: new Date('2024-01-01T00:00:00.000Z'), skip: undefined, nested: { f: () => 1, n: null } };
    await store.save('x', { seq: 5, schemaVersion: 2, state });
    state.list.push(3); // the saved copy is independent
    const loaded = await store.load('x');
    expect(loaded).toMatchObject({ seq: 5, schemaVersion: 2, state: { list: [1, 2], when: '2024-01-01T00:00:00.000Z', nested: { n: null } } });
    expect(loaded!.state).not.toHaveProperty('skip');
    expect(typeof loaded!.savedAt).toBe('string');
    for (const other of [[1, { a: 2 }], 'text', 42, null, {}]) {
      await store.save('y', { seq: 1, schemaVersion: 1, state: other });
      expect((await store.load('y'))!.state).toEqual(other);
    }
  });

  it('keeps __proto__ keys as data, without touching prototypes', async () => {
    const store = new InMemorySnapshotStore({ lineChars: 20, maxLineChars: 1_000 });
    const state = JSON.parse('{"m":{"__proto__":{"polluted":true},"a":"xxxxxxxxxxxxxxxxxxxxxxxxx"},"__proto__":{"b":"yyyyyyyyyyyyyyyyyyyyyyyyyyy"}}') as object;
    await store.save('x', { seq: 1, schemaVersion: 1, state });
    const loaded = (await store.load('x'))!.state as Record<string, unknown>;
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(state));
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('round-trips arbitrary JSON data under arbitrary small limits (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 5 })),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 50 }),
        async (state, lineChars, splitDepth, chunkBytes) => {
          const store = new InMemorySnapshotStore({ lineChars, maxLineChars: 1_000_000, splitDepth, chunkBytes });
          await store.save('p', { seq: 3, schemaVersion: 1, state });
          expect(JSON.stringify((await store.load('p'))!.state)).toBe(JSON.stringify(state));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a format-1 snapshot (one JSON document) from its first bytes, without buffering the document', () => {
    const decoder = new SnapshotDecoder('ipam', { lineChars: 10, maxLineChars: 100, splitDepth: 8 });
    // A first chunk of a document far longer than the line limit: refused as format 1, not as "too long".
    expect(() => decoder.push(Buffer.from(`{"seq":1,"schemaVersion":2,"savedAt":"2026-01-01T00:00:00.000Z","state":{"x":"${'y'.repeat(10_000)}`))).toThrow(
      /format 1/,
    );
  });

  it('refuses damaged snapshots: truncated, miscounted, changed, oversized lines, other formats, another snapshot\'s', async () => {
    const store = new InMemorySnapshotStore({ ...small, chunkBytes: 1_000_000 });
    await store.save('ok', { seq: 1, schemaVersion: 1, state: nestedState(2, 5) });
    const text = (await bytesOf(store, 'ok')).toString('utf8');
    const lines = text.split('\n');
    const cases: Record<string, string> = {
      truncated: lines.slice(0, -2).join('\n') + '\n',
      'cut mid-line': text.slice(0, text.length - 10),
      miscounted: [...lines.slice(0, 2), ...lines.slice(3)].join('\n'),
      'future format': text.replace('"format":3', '"format":4'),
      'format 2 (no name, no checksum)': text.replace('"format":3', '"format":2'),
      'one character changed': text.replace('"seq":1,', '"seq":2,').replace(/("path":\[\][^\n]*?)1/, '$19'),
      'checksum removed': text.replace(/,"sha256":"[0-9a-f]+"/, ''),
      "another snapshot's": text.replace('"name":"ok"', '"name":"other"'),
      'old format': '{"seq":1,"schemaVersion":1,"savedAt":"x","state":{}}',
      empty: '',
      'not json': lines[0] + '\n{"path":[],"entries":{\n',
      'line too long': `${lines[0]}\n{"path":[],"entries":{"a":"${'z'.repeat(3_000)}"}}\n{"end":true,"lines":1}\n`,
    };
    for (const [name, body] of Object.entries(cases)) {
      expect(body, name).not.toBe(text);
      store.putRaw('ok', Buffer.from(body, 'utf8'));
      await expect(store.load('ok'), name).rejects.toBeInstanceOf(SnapshotFormatError);
    }
    // The intact bytes, under another name: the header names its snapshot.
    store.putRaw('other', Buffer.from(text, 'utf8'));
    await expect(store.load('other')).rejects.toThrow(/it is the snapshot of "ok"/);
    store.putRaw('ok', Buffer.from(text, 'utf8'));
    await expect(store.load('ok')).resolves.toMatchObject({ seq: 1 });
  });

  it('validates name, seq and schemaVersion (rejecting, never throwing)', async () => {
    const store = new InMemorySnapshotStore();
    await expect(store.save('', { seq: 1, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: -1, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: 1.5, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: 1, schemaVersion: Number.NaN, state: {} })).rejects.toBeInstanceOf(ValidationError);
    expect(() => new InMemorySnapshotStore({ lineChars: 10, maxLineChars: 5 })).toThrow(ValidationError);
  });
});

/** The stored bytes of a snapshot, via a store that keeps one chunk per MB. */
async function bytesOf(store: InMemorySnapshotStore, name: string): Promise<Buffer> {
  const chunks = (store as unknown as { objects: Map<string, Buffer[]> }).objects.get(name)!;
  return Buffer.concat(chunks);
}
