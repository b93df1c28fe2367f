/**
 * Security groups in the host view against a real nats-server with the
 * production users: hostview as its own user; IPAM and secgroup events
 * appended straight to the log, each as its service's user (valid envelopes,
 * as the services' executors write them); agents watching `<hostId>.>` in
 * their host's bucket as agent-<host>; the operator (admin) provisions the
 * buckets and reads them for the checks. The three-tier example of secgroups.unit.spec.ts:
 *
 *   web W1 W2 W3 (any → tcp/443), app A1 A2 (web → tcp/9000), db D1 (app → tcp/5432)
 *   hv-1: W1 W2   hv-2: W3 A1   hv-3: A2 D1 X (X: in no group yet)
 *
 * hv-2 and hv-3 hold web's members (app's rule names web); hv-1 holds none.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { CLOUD_AGGREGATE, hostviewKey, networkAggregate, portSecurityAggregate, securityGroupAggregate } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startService, type RunningService } from '@strata/runtime';
import { provisionStreams } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { rule } from '../core/test/given.js';
import { hostviewService } from '../service.js';
import { derivedFromLog as derivedFromLogOf, OperatorBuckets, sorted, TestLog, watchHost as watchHostAs, withoutPosition } from './test/support.js';

const T = 'tenant-a';
const NET = randomUUID();
const SUB = randomUUID();
const ids = { web: randomUUID(), app: randomUUID(), db: randomUUID() };
const ports = Object.fromEntries(['W1', 'W2', 'W3', 'A1', 'A2', 'D1', 'X'].map((n) => [n, randomUUID()])) as Record<
  'W1' | 'W2' | 'W3' | 'A1' | 'A2' | 'D1' | 'X',
  string
>;
const IP: Record<keyof typeof ports, string> = { W1: '10.0.0.11', W2: '10.0.0.12', W3: '10.0.0.13', A1: '10.0.0.21', A2: '10.0.0.22', D1: '10.0.0.31', X: '10.0.0.40' };

const HOSTS = ['hv-1', 'hv-2', 'hv-3'];
let nats: StrataNats;
/** The operator's connection: provisions the buckets and reads them for the checks. */
let nc: NatsConnection;
let log: TestLog;
let operator: OperatorBuckets;
/** Every bucket's derived keys (the position keys are checked in hostview.int.spec.ts). */
const buckets = async () => withoutPosition(await operator.all());
const derivedFromLog = async () => (await derivedFromLogOf(log.store)).all;
const watchHost = (hostId: string) => watchHostAs(nats, hostId);

const securityKeys = (m: Map<string, string>) => [...m.keys()].filter((k) => /\.(sg|member)\./.test(k)).sort();

describe('hostview: security groups (nats-server, JetStream KV)', () => {
  let service: RunningService | undefined;
  const start = () => startService(hostviewService, { ...nats.env('hostview'), STRATA_LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    nats = await startStrataNats({ agents: HOSTS });
    nc = await nats.connect('admin');
    operator = new OperatorBuckets(nc);
    await provisionStreams(nc, { hosts: HOSTS });
    const storeOf = async (user: string) => JetStreamEventStore.open(await nats.connect(user));
    log = new TestLog(await storeOf('api'), { ipam: await storeOf('ipam'), secgroup: await storeOf('secgroup'), bgp: await storeOf('bgp') });
    const pool = randomUUID();
    await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.PoolCreated', { poolId: pool, name: 'hosts', cidr: '203.0.113.0/24', purpose: 'host-ip' });
    for (const [i, h] of HOSTS.entries()) {
      await log.emit(CLOUD_AGGREGATE, '_system', 'ipam.HypervisorRegistered', { hostId: h, vtepIp: `198.18.0.${i + 1}`, publicIp: `203.0.113.${i + 11}`, hostPoolId: pool });
    }
    await log.emit(CLOUD_AGGREGATE, T, 'ipam.NetworkCreated', { networkId: NET, name: 'net', vni: 100, mtu: 1450, routed: false });
    await log.emit(networkAggregate(NET), T, 'ipam.SubnetCreated', {
      subnetId: SUB,
      name: 'sub',
      ipVersion: 4,
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      allocationPools: [],
      enableDhcp: true,
    });
    const group = (id: string, rules: ReturnType<typeof rule>[]) =>
      log.emit(securityGroupAggregate(id), T, 'secgroup.GroupCreated', { groupId: id, name: id, description: '', isDefault: false, rules });
    await group(ids.web, [rule(randomUUID(), 'ingress', 'tcp', 443)]);
    await group(ids.app, [rule(randomUUID(), 'ingress', 'tcp', 9000, 9000, { remoteGroupId: ids.web })]);
    await group(ids.db, [rule(randomUUID(), 'ingress', 'tcp', 5432, 5432, { remoteGroupId: ids.app })]);
    const placement: [keyof typeof ports, string, string | null][] = [
      ['W1', 'hv-1', ids.web],
      ['W2', 'hv-1', ids.web],
      ['W3', 'hv-2', ids.web],
      ['A1', 'hv-2', ids.app],
      ['A2', 'hv-3', ids.app],
      ['D1', 'hv-3', ids.db],
      ['X', 'hv-3', null],
    ];
    for (const [name, host, groupId] of placement) {
      await log.emit(networkAggregate(NET), T, 'ipam.PortCreated', {
        portId: ports[name],
        name,
        mac: `02:00:00:00:00:${IP[name].slice(-2)}`,
        fixedIps: [{ subnetId: SUB, ip: IP[name] }],
        hostId: host,
        deviceId: 'vm',
      });
      if (groupId) await log.emit(portSecurityAggregate(ports[name]), T, 'secgroup.PortGroupsSet', { portId: ports[name], groupIds: [groupId] });
    }
    // The log's last event at start-up is one the host view does not read (the BGP gateway's configuration): it must still go live.
    await log.append({ context: 'bgp', type: 'thing', id: 'one' }, T, 'bgp.ThingHappened', 1, { any: 'thing' });
    service = await start();
  });

  afterAll(async () => {
    await service?.stop();
    await nats?.stop();
  });

  it('after start-up every bucket equals a full derivation of the log, security groups included', async () => {
    expect((await service!.ctx.readiness.report()).ready).toBe(true);
    const all = await derivedFromLog();
    expect(sorted(await buckets())).toEqual(sorted(all));
    const member = (h: string, g: string, p: string) => hostviewKey.member(h, g, p);
    expect(securityKeys(all)).toEqual(
      [
        hostviewKey.sg('hv-1', ids.web),
        hostviewKey.sg('hv-2', ids.web),
        hostviewKey.sg('hv-2', ids.app),
        member('hv-2', ids.web, ports.W1),
        member('hv-2', ids.web, ports.W2),
        member('hv-2', ids.web, ports.W3),
        hostviewKey.sg('hv-3', ids.app),
        hostviewKey.sg('hv-3', ids.db),
        member('hv-3', ids.web, ports.W1),
        member('hv-3', ids.web, ports.W2),
        member('hv-3', ids.web, ports.W3),
        member('hv-3', ids.app, ports.A1),
        member('hv-3', ids.app, ports.A2),
      ].sort(),
    );
  });

  it("an agent's snapshot holds its groups and members; a membership change sends one member key to a host naming the group, nothing to an unrelated host", async () => {
    const referencing = await watchHost('hv-2'); // app names web
    const unrelated = await watchHost('hv-1'); // web names no group
    expect(securityKeys(referencing.snapshot)).toEqual(
      [hostviewKey.sg('hv-2', ids.web), hostviewKey.sg('hv-2', ids.app), ...['W1', 'W2', 'W3'].map((n) => hostviewKey.member('hv-2', ids.web, ports[n as 'W1']))].sort(),
    );
    expect(JSON.parse(referencing.snapshot.get(hostviewKey.member('hv-2', ids.web, ports.W3))!)).toEqual({ groupId: ids.web, portId: ports.W3, ips: [IP.W3] });
    expect(JSON.parse(unrelated.snapshot.get(hostviewKey.port('hv-1', ports.W1))!)).toMatchObject({ groupIds: [ids.web], portSecurity: true });

    // X (on hv-3) joins web.
    const joinKey = hostviewKey.member('hv-2', ids.web, ports.X);
    await log.emit(portSecurityAggregate(ports.X), T, 'secgroup.PortGroupsSet', { portId: ports.X, groupIds: [ids.web] });
    await waitFor(() => referencing.deltas.length > 0, { message: 'member delta on hv-2' });
    // A later change that does concern hv-1 is a barrier: writes are acknowledged batch by batch in log order and a
    // watch delivers in stream order, so anything the membership change sent hv-1's bucket would arrive before it.
    await log.emit(portSecurityAggregate(ports.W1), T, 'secgroup.PortSecuritySet', { portId: ports.W1, enabled: false });
    await waitFor(() => unrelated.deltas.length > 0, { message: 'barrier delta on hv-1' });
    expect(unrelated.deltas).toEqual([`PUT ${hostviewKey.port('hv-1', ports.W1)}`]);
    expect(referencing.deltas).toEqual([`PUT ${joinKey}`]);

    // X leaves web again: one delete on hv-2, still nothing on hv-1.
    await log.emit(portSecurityAggregate(ports.X), T, 'secgroup.PortGroupsSet', { portId: ports.X, groupIds: [] });
    await waitFor(() => referencing.deltas.length > 1, { message: 'member removed on hv-2' });
    await log.emit(portSecurityAggregate(ports.W1), T, 'secgroup.PortSecuritySet', { portId: ports.W1, enabled: true });
    await waitFor(() => unrelated.deltas.length > 1, { message: 'second barrier on hv-1' });
    expect(referencing.deltas).toEqual([`PUT ${joinKey}`, `DEL ${joinKey}`]);
    expect(unrelated.deltas).toEqual([`PUT ${hostviewKey.port('hv-1', ports.W1)}`, `PUT ${hostviewKey.port('hv-1', ports.W1)}`]);
    referencing.stop();
    unrelated.stop();
    expect(sorted(await buckets())).toEqual(sorted(await derivedFromLog()));
  });

  it('a restarted service converges on rule and membership changes made while it was down', async () => {
    await service!.stop();
    service = undefined;
    // db now also admits web; W2 leaves web; D1 moves to hv-1.
    await log.emit(securityGroupAggregate(ids.db), T, 'secgroup.RuleAdded', {
      groupId: ids.db,
      rule: rule(randomUUID(), 'ingress', 'tcp', 5432, 5432, { remoteGroupId: ids.web }),
    });
    await log.emit(portSecurityAggregate(ports.W2), T, 'secgroup.PortGroupsSet', { portId: ports.W2, groupIds: [] });
    await log.emit(networkAggregate(NET), T, 'ipam.PortBound', { portId: ports.D1, hostId: 'hv-1', previousHostId: 'hv-3' });
    service = await start();
    const all = await derivedFromLog();
    expect(sorted(await buckets())).toEqual(sorted(all));
    expect(all.has(hostviewKey.member('hv-1', ids.web, ports.W1))).toBe(true); // hv-1 now holds db, which names web
    expect(all.has(hostviewKey.member('hv-1', ids.web, ports.W2))).toBe(false);
    expect(all.has(hostviewKey.sg('hv-3', ids.db))).toBe(false);
  });
});
