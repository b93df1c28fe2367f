/**
 * A lease holder frozen past its lease (issue 18, every service highly
 * available): two hostview processes publishing one partition ("0/1", 3 s
 * leases) against a real nats-server with the production users. The holder
 * is frozen with SIGSTOP (a VM pause, a stalled process: it neither renews
 * nor notices anything); the other instance takes the expired lease and
 * publishes the changes made meanwhile: a port created, then deleted. Then
 * the frozen one is resumed with SIGCONT, with those two events waiting
 * unread on its socket (its pull request was open when it froze) and its
 * lease timer overdue. It must not write anything to the host's bucket: no
 * key (the deleted port coming back) and no position (an older view over
 * the new holder's). Attribution: once the new holder has published the
 * delete it has nothing left to write, so every message the bucket's
 * stream gets from SIGCONT until the resumed process has exited is the
 * resumed instance's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { CLOUD_AGGREGATE, HOSTVIEW_LEASE_BUCKET, hostviewBucket, hostviewKey, hostviewLeaseKey, hostviewStream, networkAggregate } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { provisionStreams, startProcess, type ManagedProcess } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { derivedFromLog, OperatorBuckets, positionIn, sorted, TestLog, withoutPosition } from './test/support.js';

const HOSTVIEW_MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
const LEASE_MS = 3_000;
const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const HOST = 'hv-1';
const POOL = randomUUID();
const TENANT = 'tenant-a';
const NET = randomUUID();
const SUBNET = randomUUID();

/** One write the host's bucket stored, as a watch delivers it. */
interface Stored {
  revision: number;
  op: string;
  key: string;
  value: string;
}

describe('hostview: a holder frozen past its lease writes nothing once resumed', () => {
  let nats: StrataNats;
  let admin: NatsConnection;
  let operator: OperatorBuckets;
  let leases: KV;
  let log: TestLog;
  let watch: QueuedIterator<KvEntry> | undefined;
  /** Every write to the host's bucket after the watch's initial snapshot. */
  const stored: Stored[] = [];
  const instances: ManagedProcess[] = [];

  const start = (name: string): ManagedProcess => {
    const p = startProcess(name, [process.execPath, HOSTVIEW_MAIN], {
      env: { ...nats.env('hostview'), HOSTVIEW_PARTITION: '0/1', HOSTVIEW_LEASE_MS: String(LEASE_MS), STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' },
    });
    instances.push(p);
    return p;
  };
  /** The pid in the lease record's holder (`<hostname>-<pid>-<random>`), and the record's revision. */
  const lease = async (): Promise<{ pid: number | undefined; revision: number }> => {
    const e = await leases.get(hostviewLeaseKey(0, 1));
    if (e === null || e.operation !== 'PUT') return { pid: undefined, revision: e?.revision ?? 0 };
    return { pid: Number(/-(\d+)-[0-9a-f]+$/.exec(e.json<{ holder: string }>().holder)?.[1]), revision: e.revision };
  };
  const portCreated = (portId: string, ip: string) =>
    log.emit(networkAggregate(NET), TENANT, 'ipam.PortCreated', { portId, name: 'vm', mac: '02:00:00:00:0a:01', fixedIps: [{ subnetId: SUBNET, ip }], hostId: HOST, deviceId: 'vm' });
  const bucketLastSeq = async (): Promise<number> => (await (await admin.jetstreamManager()).streams.info(hostviewStream(HOST))).state.last_seq;
  /** The host's bucket equals a fresh derivation of the whole log, at position `seq`. */
  const current = (seq: number) => async (): Promise<boolean> => {
    const { all } = await derivedFromLog(log.store);
    const bucket = await operator.bucket(HOST);
    return positionIn(bucket, HOST) === seq && JSON.stringify(sorted(withoutPosition(bucket))) === JSON.stringify(sorted(all));
  };

  beforeAll(async () => {
    nats = await startStrataNats({ agents: [HOST] });
    admin = await nats.connect('admin');
    await provisionStreams(admin, { hosts: [HOST] });
    operator = new OperatorBuckets(admin);
    leases = await admin.jetstream().views.kv(HOSTVIEW_LEASE_BUCKET, { bindOnly: true });
    log = new TestLog(await JetStreamEventStore.open(await nats.connect('ipam')));
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.PoolCreated', { poolId: POOL, name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' });
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId: HOST, vtepIp: '198.18.0.1', publicIp: '203.0.113.11', hostPoolId: POOL });
    await log.emit(CLOUD_AGGREGATE, TENANT, 'ipam.NetworkCreated', { networkId: NET, name: 'net', vni: 100, mtu: 1450, routed: false });
    await log.emit(networkAggregate(NET), TENANT, 'ipam.SubnetCreated', { subnetId: SUBNET, name: 'sub', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', allocationPools: [], enableDhcp: true });
    const seq = await portCreated(randomUUID(), '10.0.0.10');
    // The first takes the free lease; the second starts once it has seen it renewed (a standby).
    await start('hostview-a').ready;
    await start('hostview-b').ready;
    await waitFor(current(seq), { ...WAIT, message: 'the host view is the derivation' });
    const kv = await admin.jetstream().views.kv(hostviewBucket(HOST), { bindOnly: true });
    let initialized = false;
    watch = await kv.watch({ key: '>', initializedFn: () => void (initialized = true) });
    void (async () => {
      for await (const e of watch!) if (initialized) stored.push({ revision: e.revision, op: e.operation, key: e.key, value: e.string() });
    })();
    await waitFor(() => initialized, { message: 'the watch of the host bucket' });
  });

  afterAll(async () => {
    watch?.stop();
    for (const p of instances) {
      // A stopped process takes no SIGTERM: resume it first.
      if (p.pid !== undefined) {
        try {
          process.kill(p.pid, 'SIGCONT');
        } catch {
          // Already gone.
        }
      }
      await p.stop();
    }
    await nats?.stop();
  });

  it('the other instance takes the lease and publishes; the resumed holder stops without writing a key or a position', async () => {
    const [a, b] = instances as [ManagedProcess, ManagedProcess];
    expect((await lease()).pid).toBe(a.pid);

    process.kill(a.pid, 'SIGSTOP');
    const portId = randomUUID();
    const created = await portCreated(portId, '10.0.0.20');
    await waitFor(async () => (await lease()).pid === b.pid, { ...WAIT, message: 'the other instance takes the expired lease' });
    await waitFor(current(created), { ...WAIT, message: 'the new holder publishes the port' });
    const deleted = await log.emit(networkAggregate(NET), TENANT, 'ipam.PortDeleted', { portId, releasedIps: [{ subnetId: SUBNET, ip: '10.0.0.20' }] });
    await waitFor(current(deleted), { ...WAIT, message: 'the new holder publishes the delete' });
    // The new holder is done: nothing is left for it to write.
    const before = await bucketLastSeq();
    const seen = stored.length;
    const portKey = hostviewKey.port(HOST, portId);
    expect(stored.some((s) => s.key === portKey && s.op === 'PUT')).toBe(true);

    process.kill(a.pid, 'SIGCONT');
    await waitFor(() => /partition lease lost/.test(a.output()), { ...WAIT, message: 'the resumed instance notices the loss' });
    // Its exit is the barrier: whatever it sent is stored (or refused) by now.
    await a.stop();
    const after = await bucketLastSeq();
    const written = stored.slice(seen);
    await waitFor(() => (stored.at(-1)?.revision ?? 0) >= after, { message: 'the watch has every write' });
    expect({ written: stored.slice(seen), last: after }).toEqual({ written: [], last: before });
    expect(written).toEqual([]);
    // Whether it had a write to hold back (the events waiting on its socket read before its lease timer fired), for the record.
    const heldBack = /partition lease not valid at this instant/.test(a.output());
    console.info(`paused holder: resumed with a write ready ${heldBack ? 'and held it back' : 'none (its lease timer came first)'}`);
    expect((await lease()).pid).toBe(b.pid);
    expect(await current(deleted)()).toBe(true);
  });
});
