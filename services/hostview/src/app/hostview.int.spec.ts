/**
 * The host-view service against a real nats-server with the production
 * users: hostview as its own user; IPAM events appended straight to the log
 * as the ipam user (valid envelopes, as IPAM's executor writes them); agents
 * are KV watchers on `<hostId>.>` in their host's bucket, each as its
 * agent-<host> user; the operator (admin) provisions each host's bucket when
 * the host is added, and inspects and vandalises buckets by hand. The
 * operator also asks the positions query (in production the status user
 * does).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStrategy, type NatsConnection } from 'nats';
import { CLOUD_AGGREGATE, HOSTVIEW_POSITIONS_SUBJECT, HostviewPositionsReply, networkAggregate, routerAggregate, type HostviewPositionsRequest } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { parseReply, startService, type RunningService } from '@strata/runtime';
import { provisionStreams } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { hostOfKey } from '../core/derive.js';
import { partitionOf } from '../core/partition.js';
import { hostviewService } from '../service.js';
import { derivedFromLog, OperatorBuckets, positionIn, sorted, TestLog, watchHost as watchHostAs, withoutPosition } from './test/support.js';

/** IPAM's events, as IPAM's executor writes them, one call per event. */
class IpamLog extends TestLog {
  host(hostId: string, vtepIp: string, publicIp: string) {
    return this.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId, vtepIp, publicIp, hostPoolId: POOL });
  }
  network(id: string, tenant: string, vni: number) {
    return this.emit(CLOUD_AGGREGATE, tenant, 'ipam.NetworkCreated', { networkId: id, name: 'net', vni, mtu: 1450, routed: false });
  }
  subnet(networkId: string, id: string, tenant: string, cidr: string, gatewayIp: string) {
    return this.emit(networkAggregate(networkId), tenant, 'ipam.SubnetCreated', {
      subnetId: id,
      name: 'sub',
      ipVersion: 4,
      cidr,
      gatewayIp,
      allocationPools: [],
      enableDhcp: true,
    });
  }
  port(networkId: string, id: string, tenant: string, hostId: string | null, subnetId: string, ip: string, mac: string) {
    return this.emit(networkAggregate(networkId), tenant, 'ipam.PortCreated', {
      portId: id,
      name: 'vm',
      mac,
      fixedIps: [{ subnetId, ip }],
      hostId,
      deviceId: 'vm',
    });
  }
  bind(networkId: string, id: string, tenant: string, hostId: string | null, previousHostId: string | null) {
    return this.emit(networkAggregate(networkId), tenant, 'ipam.PortBound', { portId: id, hostId, previousHostId });
  }
  deregister(hostId: string, publicIp: string) {
    return this.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorDeregistered', { hostId, publicIp });
  }
  deletePort(networkId: string, id: string, tenant: string, ip: string, subnetId: string) {
    return this.emit(networkAggregate(networkId), tenant, 'ipam.PortDeleted', { portId: id, releasedIps: [{ subnetId, ip }] });
  }
}

const POOL = randomUUID();
const A = 'tenant-a';
const B = 'tenant-b';
const [netA, netA2, netB, subA, subA2, subB, router] = Array.from({ length: 7 }, () => randomUUID());
const [pa1, pa2, pb1] = Array.from({ length: 3 }, () => randomUUID());

/** Every hypervisor these tests use (hv-9 is a bucket made by hand for a host that does not exist). */
const HOSTS = ['hv-1', 'hv-2', 'hv-3', 'hv-4', 'hv-5', 'hv-9'];

let nats: StrataNats;
/** The operator's connection: provisions buckets, inspects them, alters them by hand. */
let nc: NatsConnection;
let operator: OperatorBuckets;
const kvOf = (hostId: string) => operator.kvOf(hostId);
const bucketHosts = () => operator.hosts();
const bucket = (hostId: string) => operator.bucket(hostId);
/** Every bucket's derived keys (the position keys apart: `everything()` has them). */
const buckets = async () => withoutPosition(await operator.all());
const everything = () => operator.all();

/** Ask every partition; one parsed reply (or error envelope) per partition that answered within 5 s. */
async function askPositions(request: HostviewPositionsRequest, partitions: number) {
  const replies = await nc.requestMany(HOSTVIEW_POSITIONS_SUBJECT, JSON.stringify(request), { strategy: RequestStrategy.Count, maxMessages: partitions, maxWait: 5_000 });
  const out = [];
  for await (const m of replies) out.push(parseReply(m.json())!);
  return out;
}
const watchHost = (hostId: string) => watchHostAs(nats, hostId);

/** The operator adds hypervisors: their buckets exist before hostview writes them. */
const provision = (...hosts: string[]): Promise<void> => provisionStreams(nc, { hosts });

const present = (key: string) => async () => (await (await kvOf(hostOfKey(key))).get(key))?.operation === 'PUT';

describe('hostview service (nats-server, JetStream KV)', () => {
  let log: IpamLog;
  let service: RunningService | undefined;
  const env = () => ({ ...nats.env('hostview'), STRATA_LOG_LEVEL: 'silent' as const });
  const start = async (extra: Record<string, string> = {}) => startService(hostviewService, { ...env(), ...extra });

  beforeAll(async () => {
    nats = await startStrataNats({ agents: HOSTS });
    nc = await nats.connect('admin');
    operator = new OperatorBuckets(nc);
    await provisionStreams(nc, { hosts: [] }); // the event log
    await provision('hv-1', 'hv-2', 'hv-3');
    log = new IpamLog(await JetStreamEventStore.open(await nats.connect('ipam')));
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.PoolCreated', { poolId: POOL, name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' });
    await log.host('hv-1', '198.18.0.1', '203.0.113.11');
    await log.host('hv-2', '198.18.0.2', '203.0.113.12');
    await log.host('hv-3', '198.18.0.3', '203.0.113.13');
    await log.network(netA!, A, 100);
    await log.subnet(netA!, subA!, A, '10.0.0.0/24', '10.0.0.1');
    await log.network(netB!, B, 200);
    await log.subnet(netB!, subB!, B, '10.0.0.0/24', '10.0.0.1');
    await log.port(netA!, pa1!, A, 'hv-1', subA!, '10.0.0.10', '02:00:00:00:0a:01');
    await log.port(netA!, pa2!, A, 'hv-2', subA!, '10.0.0.11', '02:00:00:00:0a:02');
    await log.port(netB!, pb1!, B, 'hv-3', subB!, '10.0.0.10', '02:00:00:00:0b:01');
    // Started after the events: its first views come from the start-up replay and reconcile.
    service = await start();
  });

  afterAll(async () => {
    await service?.stop();
    await nats?.stop();
  });

  it('after start-up the bucket equals a full derivation of the log', async () => {
    expect((await service!.ctx.readiness.report()).ready).toBe(true);
    expect(sorted(await buckets())).toEqual(sorted((await derivedFromLog(log.store)).all));
    // One bucket per registered host, each holding only that host's keys.
    expect(await bucketHosts()).toEqual(['hv-1', 'hv-2', 'hv-3']);
    // And its position: the start-up reconcile's (the log's end, here: nothing came after).
    const all = await everything();
    const end = await log.store.lastSeq();
    for (const h of ['hv-1', 'hv-2', 'hv-3']) expect(positionIn(all, h), h).toBe(end);
  });

  it("an agent's watch delivers its host's snapshot, then only the deltas that concern it", async () => {
    const { all } = await derivedFromLog(log.store);
    const agent = await watchHost('hv-1');
    const expected = new Map([...all].filter(([k]) => k.startsWith('hv-1.')));
    expect(sorted(agent.snapshot)).toEqual(sorted(expected));
    expect([...agent.snapshot.keys()].sort()).toEqual(
      [`hv-1.host`, `hv-1.port.${pa1}`, `hv-1.net.${netA}`, `hv-1.ep.${pa2}`, `hv-1.domain.${netA}`].sort(),
    );

    // A second port of hv-2 on net-a: hv-1 gets its endpoint and nothing else (its flood list is unchanged).
    const pa3 = randomUUID();
    const created = await log.port(netA!, pa3, A, 'hv-2', subA!, '10.0.0.12', '02:00:00:00:0a:03');
    await waitFor(() => agent.deltas.includes(`PUT hv-1.ep.${pa3}`), { message: 'endpoint delta' });
    // The position of the change comes after its keys.
    await waitFor(() => agent.positions.includes(created), { message: 'position of the port' });
    expect(agent.all.indexOf('PUT hv-1.position.view')).toBeGreaterThan(agent.all.indexOf(`PUT hv-1.ep.${pa3}`));
    // The move of pa3 to hv-3 repoints the endpoint and adds hv-3 to hv-1's flood list.
    await log.bind(netA!, pa3, A, 'hv-3', 'hv-2');
    await waitFor(async () => JSON.parse((await (await kvOf('hv-1')).get(`hv-1.ep.${pa3}`))!.string()).vtep === '198.18.0.3', {
      message: 'endpoint moved',
    });
    const deleted = await log.deletePort(netA!, pa3, A, '10.0.0.12', subA!);
    await waitFor(() => agent.deltas.includes(`DEL hv-1.ep.${pa3}`), { message: 'endpoint removed' });
    await waitFor(() => agent.positions.at(-1) === deleted, { message: 'position of the delete' });
    expect(agent.all.at(-1)).toBe('PUT hv-1.position.view');
    // Each later than the one before (several changes' positions may come as one).
    expect(agent.positions).toEqual([...agent.positions].sort((a, b) => a! - b!));
    expect(agent.deltas).toEqual([
      `PUT hv-1.ep.${pa3}`,
      `PUT hv-1.net.${netA}`, // floodVteps += hv-3
      `PUT hv-1.ep.${pa3}`, // vtep → hv-3
      `PUT hv-1.net.${netA}`, // floodVteps -= hv-3
      `DEL hv-1.ep.${pa3}`,
    ]);
    agent.stop();
  });

  it('messages an agent receives when a port is created on some other host it has nothing to do with: zero', async () => {
    const unrelated = await watchHost('hv-3'); // tenant-b only
    const affected = await watchHost('hv-1');
    const px = randomUUID();
    await log.port(netA!, px, A, 'hv-2', subA!, '10.0.0.20', '02:00:00:00:0a:20');
    // The operation's own keys are written...
    await waitFor(present(`hv-2.port.${px}`), { message: 'local port key' });
    await waitFor(present(`hv-1.ep.${px}`), { message: 'remote endpoint key' });
    // ...and a later change that does concern hv-3 is a barrier: writes are acknowledged batch by batch in log order,
    // and a watch delivers in stream order, so anything the first operation sent hv-3's bucket would arrive before it.
    const pb2 = randomUUID();
    await log.port(netB!, pb2, B, 'hv-3', subB!, '10.0.0.30', '02:00:00:00:0b:30');
    await waitFor(() => unrelated.deltas.length > 0, { message: 'barrier delta' });
    expect(unrelated.deltas).toEqual([`PUT hv-3.port.${pb2}`]);
    await waitFor(() => affected.deltas.includes(`PUT hv-1.ep.${px}`), { message: 'affected delta' });
    expect(affected.deltas).toEqual([`PUT hv-1.ep.${px}`]);
    unrelated.stop();
    affected.stop();
  });

  it('a restarted service converges to a fresh full derivation, whatever happened while it was down', async () => {
    await service!.stop();
    service = undefined;
    // While down: a router joins net-a and a new net-a2, a port moves, a host arrives, a port goes.
    await log.network(netA2!, A, 101);
    await log.subnet(netA2!, subA2!, A, '10.0.1.0/24', '10.0.1.1');
    await log.emit(routerAggregate(router!), A, 'ipam.RouterCreated', { routerId: router!, name: 'r' });
    await log.emit(routerAggregate(router!), A, 'ipam.RouterInterfaceAdded', { routerId: router!, subnetId: subA!, networkId: netA! });
    await log.emit(routerAggregate(router!), A, 'ipam.RouterInterfaceAdded', { routerId: router!, subnetId: subA2!, networkId: netA2! });
    await provision('hv-4');
    await log.host('hv-4', '198.18.0.4', '203.0.113.14');
    const pa4 = randomUUID();
    await log.port(netA2!, pa4, A, 'hv-4', subA2!, '10.0.1.10', '02:00:00:00:0a:04');
    await log.bind(netA!, pa2!, A, 'hv-3', 'hv-2');
    await log.deletePort(netB!, pb1!, B, '10.0.0.10', subB!);

    service = await start();
    const { all } = await derivedFromLog(log.store);
    expect(sorted(await buckets())).toEqual(sorted(all));
    // hv-4 routes into net-a through the router; pa2 now lives on hv-3; pb1 is gone.
    expect(JSON.parse(all.get(`hv-4.domain.${router}`)!)).toEqual({ id: router, tenant: A, kind: 'router', networkIds: [netA, netA2].sort() });
    expect(all.has(`hv-4.net.${netA}`)).toBe(true);
    expect(all.has(`hv-2.port.${pa2}`)).toBe(false);
    expect(all.has(`hv-3.port.${pa2}`)).toBe(true);
    expect(all.has(`hv-3.ep.${pb1}`) || all.has(`hv-3.port.${pb1}`)).toBe(false);
  });

  it('keys or buckets deleted, altered or added by hand are repaired at the next start-up reconcile (a deleted bucket once the operator provisions it again)', async () => {
    await service!.stop();
    service = undefined;
    const hv1 = await kvOf('hv-1');
    await hv1.delete('hv-1.host');
    await hv1.put(`hv-1.port.${pa1}`, 'garbage');
    await hv1.put('hv-1.ep.not-a-port', '{}');
    await hv1.put(`hv-4.ep.${pa1}`, '{}'); // another host's key in hv-1's bucket
    await (await kvOf('hv-2')).destroy(); // a whole bucket gone
    operator.forget('hv-2');
    // A bucket of a host that does not exist (say, a typo by hand).
    await provision('hv-9');
    await (await kvOf('hv-9')).put('hv-9.host', '{}');
    expect((await buckets()).has(`hv-1!hv-4.ep.${pa1}`)).toBe(true);
    const starting = start();
    let started = false;
    void starting.then(() => (started = true), () => undefined);
    // hostview may not create a stream: hv-1 is repaired, hv-2's writes fail and are retried, and the
    // start-up reconcile does not finish while a bucket it must write is missing.
    await waitFor(present('hv-1.host'), { message: 'hv-1 repaired' });
    expect(await bucketHosts()).not.toContain('hv-2');
    expect(started).toBe(false);
    // Meanwhile live events still reach the other hosts' buckets.
    const live = randomUUID();
    await log.port(netA!, live, A, 'hv-1', subA!, '10.0.0.50', '02:00:00:00:0a:50');
    await waitFor(present(`hv-1.port.${live}`), { message: 'a live event written while hv-2 is missing' });
    expect(started).toBe(false);
    // The operator provisions it again: the retries write it and the start completes.
    await provision('hv-2');
    service = await starting;
    expect(sorted(await buckets())).toEqual(sorted((await derivedFromLog(log.store)).all));
    // hv-9's bucket is emptied, not deleted.
    expect(await bucketHosts()).toContain('hv-9');
    expect((await bucket('hv-9')).size).toBe(0);
  });

  it("a deregistered host's bucket is emptied, and its agent sees every key go", async () => {
    await provision('hv-5');
    await log.host('hv-5', '198.18.0.5', '203.0.113.15');
    await waitFor(present('hv-5.host'), { message: 'hv-5 registered' });
    const agent = await watchHost('hv-5');
    expect([...agent.snapshot.keys()]).toEqual(['hv-5.host']);
    await log.deregister('hv-5', '203.0.113.15');
    // Its position goes too (after the keys it covered).
    await waitFor(() => agent.positions.includes(null), { message: 'hv-5 deregistered' });
    expect(agent.deltas).toEqual(['DEL hv-5.host']);
    expect(agent.all).toEqual(['DEL hv-5.host', 'DEL hv-5.position.view']);
    expect((await bucket('hv-5')).size).toBe(0);
    agent.stop();
  });

  it('an instance reads and writes only the buckets of the hosts its partition owns', async () => {
    await service!.stop();
    service = undefined;
    const hosts = await bucketHosts();
    const owned = hosts.find((h) => partitionOf(h, 2) === 0)!;
    const other = hosts.find((h) => partitionOf(h, 2) === 1)!;
    expect(owned && other).toBeTruthy();
    await (await kvOf(owned)).put(`${owned}.ep.stray`, '{}');
    await (await kvOf(other)).put(`${other}.ep.stray`, '{}');
    const p0 = await start({ HOSTVIEW_PARTITION: '0/2' });
    try {
      expect((await bucket(owned)).has(`${owned}.ep.stray`)).toBe(false);
      expect((await bucket(other)).has(`${other}.ep.stray`)).toBe(true);
    } finally {
      await p0.stop();
    }
    await (await kvOf(other)).delete(`${other}.ep.stray`);
    service = await start();
  });

  it('several instances, one per partition, together write exactly the full derivation', async () => {
    await service!.stop();
    service = undefined;
    // The operator wipes every bucket and provisions them again, empty.
    const hosts = await bucketHosts();
    for (const h of hosts) await (await kvOf(h)).destroy();
    operator.forget();
    await provision(...hosts);
    const parts = await Promise.all(['0/3', '1/3', '2/3'].map((p) => start({ HOSTVIEW_PARTITION: p, HOSTVIEW_POSITIONS_WAIT_MS: '300' })));
    try {
      const pz = randomUUID();
      const created = await log.port(netA!, pz, A, 'hv-1', subA!, '10.0.0.40', '02:00:00:00:0a:40');
      const { all } = await derivedFromLog(log.store);
      expect(all.has(`hv-4.ep.${pz}`)).toBe(true);
      const expected = JSON.stringify(sorted(all));
      await waitFor(async () => JSON.stringify(sorted(await buckets())) === expected, { message: 'every partition wrote its hosts' });
      expect(sorted(await buckets())).toEqual(sorted(all));

      // The positions query, at the port's position: every partition answers for its own hosts.
      const replies = await askPositions({ minSeq: created, resource: { kind: 'port', id: pz } }, 3);
      const answers = replies.map((r) => {
        if (!r.ok) throw new Error(`positions query failed: ${JSON.stringify(r)}`);
        return HostviewPositionsReply.parse(r.result);
      });
      expect(answers.map((a) => a.partition).sort()).toEqual(['0/3', '1/3', '2/3']);
      for (const a of answers) expect(a.seq).toBeGreaterThanOrEqual(created);
      // Hosts: every host with keys once, at the position its bucket holds (once written).
      const withKeys = [...new Set([...all.keys()].map(hostOfKey))].sort();
      const hosts = answers.flatMap((a) => a.hosts).sort((a, b) => (a.hostId < b.hostId ? -1 : 1));
      expect(hosts.map((h) => h.hostId)).toEqual(withKeys);
      await waitFor(
        async () => {
          const now = await everything();
          return hosts.every((h) => positionIn(now, h.hostId) === h.position);
        },
        { message: 'the answered positions are the ones written' },
      );
      // Holders: the hosts whose views have its keys (its own, and those with its endpoint), at the port's creation.
      const holders = answers.flatMap((a) => a.holders).sort((a, b) => (a.hostId < b.hostId ? -1 : 1));
      const holding = [...new Set([...all.keys()].filter((k) => k.endsWith(`.port.${pz}`) || k.endsWith(`.ep.${pz}`)).map(hostOfKey))].sort();
      expect(holding.length).toBeGreaterThan(1);
      expect(holders).toEqual(holding.map((hostId) => ({ hostId, position: created })));
      // The hosts holding the port got the port's change as their latest.
      for (const h of holding) expect(hosts.find((x) => x.hostId === h)!.position).toBe(created);

      // A position the log has not reached: each partition waits (HOSTVIEW_POSITIONS_WAIT_MS), then says so.
      const late = await askPositions({ minSeq: created + 1000 }, 3);
      expect(late).toHaveLength(3);
      for (const r of late) expect(r).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    } finally {
      for (const p of parts) await p.stop();
    }
  });
});
