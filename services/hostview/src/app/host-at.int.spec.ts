/**
 * `strata.qry.hostview.at` against a real nats-server with the production
 * users: two hostview partitions as the hostview user (partition 0 saving an
 * audit snapshot every 3 events into hostview's own bucket, keeping 2), IPAM events
 * appended as the ipam user, the question asked by the operator (in
 * production the audit service's user). The oracle is independent of the
 * answer's path: a fresh model folded from the log up to the position (no
 * snapshot), the host derived in full.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStrategy, type NatsConnection } from 'nats';
import { CLOUD_AGGREGATE, HOSTVIEW_AT_SUBJECT, HostviewAtReply, networkAggregate, type HostviewAtRequest } from '@strata/contracts';
import { JetStreamEventStore, snapshotBucket, SnapshotStore } from '@strata/eventlog';
import { createLogger, parseReply, startService, type RunningService } from '@strata/runtime';
import { provisionStreams } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { computeHost } from '../core/derive.js';
import { applyEvent, emptyModel, toModelEvent } from '../core/model.js';
import { partitionOf } from '../core/partition.js';
import { hostviewService } from '../service.js';
import { answerAt } from './at-query.js';
import { AuditSnapshots, jetStreamObjectNames } from './audit-snapshots.js';
import { TestLog } from './test/support.js';

const HOSTS = ['hv-1', 'hv-2'];
const A = 'tenant-a';
const POOL = randomUUID();
const [net, sub] = [randomUUID(), randomUUID()];
const ports = Array.from({ length: 6 }, () => randomUUID());

let nats: StrataNats;
let nc: NatsConnection;
let store: JetStreamEventStore;
let log: TestLog;
const services: RunningService[] = [];

/** The oracle: the log folded from its start up to `seq`, the host derived in full (values parsed). */
async function viewAt(hostId: string, seq: number): Promise<Record<string, unknown>> {
  const model = emptyModel();
  for await (const stored of store.read({ toSeq: seq })) {
    const e = toModelEvent(stored);
    if (e) applyEvent(model, e);
  }
  return Object.fromEntries([...computeHost(model, hostId).keys].map(([k, v]) => [k, JSON.parse(v) as unknown]));
}

/** Ask; every reply that came within 2 s (only the owning partition should answer). */
async function ask(request: HostviewAtRequest | string): Promise<ReturnType<typeof parseReply>[]> {
  const body = typeof request === 'string' ? request : JSON.stringify(request);
  const replies = await nc.requestMany(HOSTVIEW_AT_SUBJECT, body, { strategy: RequestStrategy.Timer, maxWait: 2_000 });
  const out = [];
  for await (const m of replies) out.push(parseReply(m.json()));
  return out;
}

/** The first reply (the silence of the other partition is checked by `ask`). */
async function answer(request: HostviewAtRequest): Promise<HostviewAtReply> {
  const r = parseReply((await nc.request(HOSTVIEW_AT_SUBJECT, JSON.stringify(request), { timeout: 10_000 })).json());
  if (!r.ok) throw new Error(`at query failed: ${JSON.stringify(r)}`);
  return HostviewAtReply.parse(r.result);
}

describe('hostview at query (nats-server, production users)', () => {
  const positions: number[] = [];

  beforeAll(async () => {
    nats = await startStrataNats({ agents: HOSTS });
    nc = await nats.connect('admin');
    await provisionStreams(nc, { hosts: HOSTS });
    store = await JetStreamEventStore.open(await nats.connect('ipam'));
    log = new TestLog(store, { ipam: store, bgp: await JetStreamEventStore.open(await nats.connect('bgp')) });
    const env = { ...nats.env('hostview'), STRATA_LOG_LEVEL: 'silent' as const, HOSTVIEW_AUDIT_SNAPSHOT_EVERY: '3', HOSTVIEW_AUDIT_SNAPSHOT_KEEP: '2' };
    for (const p of ['0/2', '1/2']) services.push(await startService(hostviewService, { ...env, HOSTVIEW_PARTITION: p }));
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.PoolCreated', { poolId: POOL, name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' });
    positions.push(await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId: 'hv-1', vtepIp: '198.18.0.1', publicIp: '203.0.113.11', hostPoolId: POOL }));
    positions.push(await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId: 'hv-2', vtepIp: '198.18.0.2', publicIp: '203.0.113.12', hostPoolId: POOL }));
    positions.push(await log.emit(CLOUD_AGGREGATE, A, 'ipam.NetworkCreated', { networkId: net, name: 'net', vni: 100, mtu: 1450, routed: false }));
    positions.push(
      await log.emit(networkAggregate(net), A, 'ipam.SubnetCreated', { subnetId: sub, name: 'sub', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', allocationPools: [], enableDhcp: true }),
    );
    // Another context's event in between: it only moves the position.
    positions.push(await log.append({ context: 'bgp', type: 'thing', id: 'x' }, A, 'bgp.ThingHappened', 1, { any: 'thing' }));
    for (const [i, p] of ports.entries()) {
      const ip = `10.0.0.${10 + i}`;
      const mac = `02:00:00:00:0a:${(10 + i).toString(16)}`;
      positions.push(
        await log.emit(networkAggregate(net), A, 'ipam.PortCreated', { portId: p, name: 'vm', mac, fixedIps: [{ subnetId: sub, ip }], hostId: i % 2 ? 'hv-2' : 'hv-1', deviceId: 'vm' }),
      );
    }
    positions.push(await log.emit(networkAggregate(net), A, 'ipam.PortDeleted', { portId: ports[1]!, releasedIps: [{ subnetId: sub, ip: '10.0.0.11' }] }));
    positions.push(await log.emit(networkAggregate(net), A, 'ipam.PortBound', { portId: ports[2]!, hostId: 'hv-2', previousHostId: 'hv-1' }));
  }, 60_000);

  afterAll(async () => {
    for (const s of services) await s.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('the view at each position equals the log folded up to it; only the owning partition answers', async () => {
    for (const hostId of HOSTS) {
      const replies = await ask({ hostId, toSeq: positions[0]! });
      expect(replies, `one answer for ${hostId} (partition ${partitionOf(hostId, 2)}/2)`).toHaveLength(1);
      expect(replies[0]!.ok).toBe(true);
    }
    for (const hostId of HOSTS) {
      for (const seq of positions) {
        const at = await answer({ hostId, toSeq: seq });
        expect(at.view, `${hostId} at ${seq}`).toEqual(await viewAt(hostId, seq));
        expect(at.toSeq).toBe(seq);
      }
    }
  });

  it('starts from the nearest audit snapshot at or before the position (saved by partition 0 into its bucket), with the same answer', async () => {
    const bucket = snapshotBucket('hostview');
    const snapshots = new AuditSnapshots({ store: await SnapshotStore.open(nc, { bucket }), objects: await jetStreamObjectNames(nc, bucket) }, createLogger('test', 'silent'));
    // 13 model events, a snapshot every 3 (one falling due during a save is written after it), the newest 2 kept.
    await waitFor(async () => (await snapshots.positions()).length === 2 && (await snapshots.positions())[1]! >= positions.at(-3)!, {
      message: 'audit snapshots saved and pruned',
    });
    const saved = await snapshots.positions();
    const last = positions.at(-1)!;
    const at = await answer({ hostId: 'hv-1', toSeq: last });
    expect(at.snapshotSeq).toBe(Math.max(...saved.filter((s) => s <= last)));
    expect(at.replayed).toBe(last - at.snapshotSeq);
    expect(at.view).toEqual(await viewAt('hv-1', last));
    // Before the first snapshot: from the start of the log.
    const early = await answer({ hostId: 'hv-1', toSeq: positions[0]! });
    expect(early.snapshotSeq).toBe(0);
    // Pruning as the hostview user (its permissions on its own bucket: info, purge, the delete marker).
    const asHostview = await nats.connect('hostview');
    try {
      const own = new AuditSnapshots({ store: await SnapshotStore.open(asHostview, { bucket }), objects: await jetStreamObjectNames(asHostview, bucket) }, createLogger('test', 'silent'));
      expect(await own.prune(1)).toBe(1);
      expect(await own.positions()).toEqual([saved[1]]);
      expect((await own.nearest(last))!.seq).toBe(saved[1]);
    } finally {
      await asHostview.close();
    }
  });

  it('between two positions: the view at each end and every event that changed the host, with the keys it changed', async () => {
    for (const hostId of HOSTS) {
      const fromSeq = positions[2]!;
      const toSeq = positions.at(-1)!;
      const at = await answer({ hostId, fromSeq, toSeq });
      expect(at.from!.view).toEqual(await viewAt(hostId, fromSeq));
      expect(at.view).toEqual(await viewAt(hostId, toSeq));
      const expected = [];
      for (let s = fromSeq + 1; s <= toSeq; s++) {
        const before = await viewAt(hostId, s - 1);
        const after = await viewAt(hostId, s);
        const keys = Object.fromEntries(
          [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => [k, after[k] ?? null]),
        );
        if (Object.keys(keys).length) expected.push({ seq: s, keys });
      }
      expect(expected.length).toBeGreaterThan(0);
      expect(at.from!.changes.map((c) => ({ seq: c.event.seq, keys: c.keys }))).toEqual(expected);
      for (const c of at.from!.changes) expect(c.event).toMatchObject({ actor: 'hostview-test', type: expect.stringMatching(/^ipam\./) });
    }
  });

  it('refuses bad requests clearly: a position past the end, an interval the wrong way round, not JSON (answered once)', async () => {
    const end = await store.lastSeq();
    const past = await ask({ hostId: 'hv-1', toSeq: end + 10 });
    expect(past).toHaveLength(1);
    expect(past[0]).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `toSeq ${end + 10} is past the end of the log (its last position is ${end})` } });
    const backwards = await ask({ hostId: 'hv-1', toSeq: 3, fromSeq: 5 });
    expect(backwards).toHaveLength(1);
    expect(backwards[0]).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'fromSeq (5) must be before toSeq (3)' } });
    const garbage = await ask('not json');
    expect(garbage).toHaveLength(1);
    expect(garbage[0]).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    // An unknown host: its owner answers, with an empty view.
    expect((await answer({ hostId: 'hv-404', toSeq: end })).view).toEqual({});
  });

  it('refuses an answer over the largest reply, and a replay over its bound, naming the sizes', async () => {
    const end = await store.lastSeq();
    const big = JSON.parse(await answerAt({ hostId: 'hv-1', toSeq: end }, { store, maxReplay: 1000, owns: () => true, answersInvalid: true, maxQueued: 0, logger: createLogger('t', 'silent'), maxReplyBytes: 200 })) as unknown;
    expect(big).toMatchObject({ ok: false, error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^the view of hv-1 at \d+ is \d+ bytes, over the largest reply of 200 bytes/) } });
    const long = JSON.parse(await answerAt({ hostId: 'hv-1', toSeq: end }, { store, maxReplay: 3, owns: () => true, answersInvalid: true, maxQueued: 0, logger: createLogger('t', 'silent'), maxReplyBytes: 1e6 })) as unknown;
    expect(long).toMatchObject({ ok: false, error: { code: 'RESOURCE_EXHAUSTED', message: `answering needs ${end} events replayed (from the start of the log to ${end}), over the limit of 3` } });
  });
});
