/**
 * Partition failover (issue 18, every service highly available): two
 * hostview processes, "0/2" and "1/2", with 3 s leases, against a real
 * nats-server with the production users (hostview as its own user; the
 * operator provisions the host buckets and the lease bucket). Each takes its
 * own partition. kill -9 the one publishing partition 1: a change for a host
 * of that partition reaches the host's bucket once the lease has run out
 * (the survivor took the lease, with a revision-checked write, and
 * republished the partition), and every host's view equals a fresh
 * derivation (no host left without updates). A lease taken away from its
 * holder stops its publishing of that partition until it takes it back. The
 * killed instance comes back as a standby (the survivor keeps the
 * partition); killing the survivor then moves both partitions to it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV, NatsConnection } from 'nats';
import { CLOUD_AGGREGATE, HOSTVIEW_LEASE_BUCKET, hostviewLeaseKey, networkAggregate } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { provisionStreams, startProcess, type ManagedProcess } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { partitionOf } from '../core/partition.js';
import { derivedFromLog, OperatorBuckets, sorted, TestLog, withoutPosition } from './test/support.js';

const HOSTVIEW_MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
const LEASE_MS = 3_000;
const WAIT = { timeoutMs: 60_000, intervalMs: 100 };

/** Two hosts in each of the two partitions. */
const CANDIDATES = Array.from({ length: 16 }, (_, i) => `hv-${i + 1}`);
const P0 = CANDIDATES.filter((h) => partitionOf(h, 2) === 0).slice(0, 2);
const P1 = CANDIDATES.filter((h) => partitionOf(h, 2) === 1).slice(0, 2);
const HOSTS = [...P0, ...P1];

const POOL = randomUUID();
const TENANT = 'tenant-a';
const NET = randomUUID();
const SUBNET = randomUUID();

describe('hostview partition failover (leases)', () => {
  let nats: StrataNats;
  let nc: NatsConnection;
  let operator: OperatorBuckets;
  let leases: KV;
  let log: TestLog;
  const instances: Record<string, ManagedProcess> = {};
  let nextIp = 10;

  const start = (partition: string): ManagedProcess => {
    const p = startProcess(`hostview-${partition.replace('/', '-')}`, [process.execPath, HOSTVIEW_MAIN], {
      env: { ...nats.env('hostview'), HOSTVIEW_PARTITION: partition, HOSTVIEW_LEASE_MS: String(LEASE_MS), STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0' },
    });
    instances[partition] = p;
    return p;
  };
  /** The pid in the holder id of a partition's lease record (`<hostname>-<pid>-<random>`), and its revision. */
  const lease = async (index: number): Promise<{ pid: number | undefined; revision: number }> => {
    const e = await leases.get(hostviewLeaseKey(index, 2));
    if (e === null || e.operation !== 'PUT') return { pid: undefined, revision: e?.revision ?? 0 };
    const holder = (e.json<{ holder: string }>()).holder;
    return { pid: Number(/-(\d+)-[0-9a-f]+$/.exec(holder)?.[1]), revision: e.revision };
  };
  const port = async (hostId: string): Promise<{ id: string; seq: number }> => {
    const id = randomUUID();
    const ip = `10.0.0.${nextIp++}`;
    const seq = await log.emit(networkAggregate(NET), TENANT, 'ipam.PortCreated', { portId: id, name: 'vm', mac: '02:00:00:00:0a:01', fixedIps: [{ subnetId: SUBNET, ip }], hostId, deviceId: 'vm' });
    return { id, seq };
  };
  const hasPort = (hostId: string, portId: string) => async () => (await operator.bucket(hostId)).has(`${hostId}.port.${portId}`);
  /** Every host's view equals a fresh derivation of the whole log. */
  const current = async (): Promise<boolean> => {
    const { all } = await derivedFromLog(log.store);
    return JSON.stringify(sorted(withoutPosition(await operator.all()))) === JSON.stringify(sorted(all));
  };

  beforeAll(async () => {
    expect(P0).toHaveLength(2);
    expect(P1).toHaveLength(2);
    nats = await startStrataNats({ agents: HOSTS });
    nc = await nats.connect('admin');
    await provisionStreams(nc, { hosts: HOSTS });
    operator = new OperatorBuckets(nc);
    leases = await nc.jetstream().views.kv(HOSTVIEW_LEASE_BUCKET, { bindOnly: true });
    log = new TestLog(await JetStreamEventStore.open(await nats.connect('ipam')));
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.PoolCreated', { poolId: POOL, name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' });
    for (const [i, h] of HOSTS.entries()) {
      await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId: h, vtepIp: `198.18.0.${i + 1}`, publicIp: `203.0.113.${i + 11}`, hostPoolId: POOL });
    }
    await log.emit(CLOUD_AGGREGATE, TENANT, 'ipam.NetworkCreated', { networkId: NET, name: 'net', vni: 100, mtu: 1450, routed: false });
    await log.emit(networkAggregate(NET), TENANT, 'ipam.SubnetCreated', { subnetId: SUBNET, name: 'sub', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', allocationPools: [], enableDhcp: true });
    for (const h of HOSTS) await port(h);
    await Promise.all([start('0/2').ready, start('1/2').ready]);
  });

  afterAll(async () => {
    for (const p of Object.values(instances)) await p.stop();
    await nats?.stop();
  });

  it('each instance takes its own partition; together they publish the full derivation', async () => {
    expect((await lease(0)).pid).toBe(instances['0/2']!.pid);
    expect((await lease(1)).pid).toBe(instances['1/2']!.pid);
    await waitFor(current, { ...WAIT, message: 'every host view is the derivation' });
  });

  it('kill -9 of the instance publishing partition 1: the survivor takes its lease and its hosts get their changes', async () => {
    const before = await lease(1);
    await instances['1/2']!.kill9();
    const killedAt = performance.now();
    // Changes for both partitions right after the kill: partition 0's goes on at once, partition 1's after the failover.
    const p1 = await port(P1[0]!);
    const p0 = await port(P0[0]!);
    await waitFor(hasPort(P0[0]!, p0.id), { ...WAIT, message: 'partition 0 still published' });
    await waitFor(hasPort(P1[0]!, p1.id), { ...WAIT, message: `${P1[0]} got its change through the survivor` });
    const failoverMs = Math.round(performance.now() - killedAt);
    const after = await lease(1);
    expect(after.pid).toBe(instances['0/2']!.pid);
    expect(after.revision).toBeGreaterThan(before.revision);
    await waitFor(current, { ...WAIT, message: 'no host left without updates' });
    expect(instances['0/2']!.output()).toMatch(/"partition":"1\/2".*"why":"expired".*"msg":"partition lease taken"/);
    console.info(`hostview failover: partition 1/2's change reached its host ${failoverMs} ms after kill -9 (lease ${LEASE_MS} ms)`);
  });

  it('a lease taken away (by the operator here, as another instance would): the holder stops publishing that partition, and takes it back once it runs out', async () => {
    const holder = instances['0/2']!;
    const { revision } = await lease(1);
    const taken = await leases.update(hostviewLeaseKey(1, 2), JSON.stringify({ holder: 'operator-test', partition: '1/2' }), revision);
    await waitFor(async () => /"partition":"1\/2"[^\n]*partition lease lost/.test(holder.output()), { ...WAIT, message: 'the holder notices at its next look' });
    const unpublished = await port(P1[0]!);
    const published = await port(P0[0]!);
    await waitFor(hasPort(P0[0]!, published.id), { ...WAIT, message: 'partition 0 still published' });
    // As long as the record is still the one it did not write, the instance writes nothing of partition 1.
    const written = await hasPort(P1[0]!, unpublished.id)();
    if ((await lease(1)).revision === taken) expect(written).toBe(false);
    // Nobody renews it: once it has run out the instance takes it again and republishes the partition.
    await waitFor(hasPort(P1[0]!, unpublished.id), { ...WAIT, message: 'partition 1 republished after the lease ran out' });
    expect((await lease(1)).pid).toBe(holder.pid);
    await waitFor(current, { ...WAIT, message: 'no host left without updates' });
  });

  it('the killed instance comes back as a standby; killing the survivor moves both partitions to it', async () => {
    await start('1/2').ready;
    // The survivor keeps renewing partition 1 (no hand-back): the returning instance publishes nothing yet.
    const held = await lease(1);
    await waitFor(async () => (await lease(1)).revision > held.revision, { ...WAIT, message: 'the survivor renews partition 1' });
    expect((await lease(1)).pid).toBe(instances['0/2']!.pid);
    expect((await lease(0)).pid).toBe(instances['0/2']!.pid);

    await instances['0/2']!.kill9();
    const changes = [await port(P0[1]!), await port(P1[1]!)];
    await waitFor(hasPort(P0[1]!, changes[0]!.id), { ...WAIT, message: `${P0[1]} got its change through the other instance` });
    await waitFor(hasPort(P1[1]!, changes[1]!.id), { ...WAIT, message: `${P1[1]} got its change through the other instance` });
    expect((await lease(0)).pid).toBe(instances['1/2']!.pid);
    expect((await lease(1)).pid).toBe(instances['1/2']!.pid);
    await waitFor(current, { ...WAIT, message: 'no host left without updates' });
  });
});
