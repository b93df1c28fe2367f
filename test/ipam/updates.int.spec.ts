/**
 * Updates through the real IPAM service over NATS: revisions count, a
 * stale revision and every bad input are refused with a clear error and
 * write no event, only real changes are written, a moved address is free
 * again, a retried update is answered once, and the state after updates is
 * what a replay of the log gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';
import { IpamClient, startIpam, type IpamProcess, type Principal } from '../support/ipam.js';
import { replayDigest } from '../support/replay.js';

const a: Principal = { tenant: 'tenant-a', admin: false };
const b: Principal = { tenant: 'tenant-b', admin: false };

describe('IPAM updates', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let second: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: EventStore;
  let networkId: string;
  let subnetId: string;
  let routerId: string;
  let portId: string;
  let otherId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    // A second instance on the same log: requests are spread over both (one queue group).
    second = startIpam(nats.url, nats.env('ipam'));
    await second.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    networkId = (await client.command('network.create', { name: 'n', description: 'tenant A web tier' }, a)).id;
    subnetId = (await client.command('subnet.create', { networkId, cidr: '10.0.0.0/24', dnsNameservers: ['10.0.0.2'] }, a)).id;
    portId = (await client.command('port.create', { networkId, fixedIps: [{ ip: '10.0.0.10' }] }, a)).id;
    otherId = (await client.command('port.create', { networkId, fixedIps: [{ ip: '10.0.0.20' }] }, a)).id;
    routerId = (await client.command('router.create', { name: 'r' }, a)).id;
    await client.command('router.addInterface', { id: routerId, subnetId }, a);
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await second?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('answers the resource with its revision and new fields; an update counts once, one that changes nothing writes nothing', async () => {
    const net = await client.query('network.get', { id: networkId }, a);
    expect(net).toMatchObject({ description: 'tenant A web tier', revision: 1 });
    expect(await client.query('subnet.get', { id: subnetId }, a)).toMatchObject({ dnsNameservers: ['10.0.0.2'], hostRoutes: [], revision: 1 });

    const before = await store.lastSeq();
    const port = await client.command('port.update', { id: portId, name: 'web', adminStateUp: false, expectedRevision: 1 }, a);
    expect(port).toMatchObject({ name: 'web', adminStateUp: false, revision: 2 });
    expect(await store.lastSeq()).toBe(before + 1);

    const same = await client.command('port.update', { id: portId, name: 'web', adminStateUp: false, expectedRevision: 2 }, a);
    expect(same).toEqual(port);
    expect(await store.lastSeq()).toBe(before + 1);

    // A retried request (same request id) is answered from the first, without a second event.
    const rid = '00000000-0000-4000-8000-0000000000a1';
    const first = await client.command('network.update', { id: networkId, name: 'web', expectedRevision: 1 }, a, rid);
    const again = await client.command('network.update', { id: networkId, name: 'web', expectedRevision: 1 }, a, rid);
    expect(again).toEqual(first);
    expect(first.revision).toBe(2);
    expect(await store.lastSeq()).toBe(before + 2);
  });

  it('moves a fixed IP: the old address is released to the pool (another port may take it), the new one is the port’s', async () => {
    const moved = await client.command('port.update', { id: portId, fixedIps: [{ ip: '10.0.0.11' }] }, a);
    expect(moved.fixedIps).toEqual([{ subnetId, ip: '10.0.0.11' }]);
    let event;
    for await (const e of store.read({ subject: `strata.evt.ipam.network.${networkId}`, fromSeq: await store.lastSeq() })) event = e;
    expect(event?.type).toBe('ipam.PortUpdated');
    expect(event?.data).toMatchObject({ fixedIps: { released: [{ subnetId, ip: '10.0.0.10' }], allocated: [{ subnetId, ip: '10.0.0.11' }] } });
    const taker = await client.command('port.create', { networkId, fixedIps: [{ ip: '10.0.0.10' }] }, a);
    expect(taker.fixedIps).toEqual([{ subnetId, ip: '10.0.0.10' }]);
    await client.command('port.delete', { id: taker.id }, a);
  });

  it('refuses a stale revision, the fields that never change, and bad addresses, routes and pools: clear errors, no event', async () => {
    const port = await client.query('port.get', { id: portId }, a);
    const stale = port.revision - 1;
    await expectRefusedWithoutEvents(store, [
      {
        what: 'stale revision',
        attempt: () => client.command('port.update', { id: portId, name: 'x', expectedRevision: stale }, a),
        code: 'FAILED_PRECONDITION',
        message: `port ${portId} is at revision ${port.revision}, not the expected ${stale}: read it again and retry`,
      },
      {
        what: 'stale revision, no change',
        attempt: () => client.command('subnet.update', { id: subnetId, expectedRevision: 7 }, a),
        code: 'FAILED_PRECONDITION',
        message: /subnet .* is at revision 1, not the expected 7/,
      },
      {
        what: "a port's network",
        attempt: () => client.command('port.update', { id: portId, networkId } as never, a),
        code: 'INVALID_ARGUMENT',
        message: /networkId: cannot be changed: a port lives on its network/,
      },
      { what: "a port's MAC", attempt: () => client.command('port.update', { id: portId, mac: '02:00:00:00:00:99' } as never, a), code: 'INVALID_ARGUMENT', message: /mac: cannot be changed/ },
      { what: "a subnet's CIDR", attempt: () => client.command('subnet.update', { id: subnetId, cidr: '10.1.0.0/24' } as never, a), code: 'INVALID_ARGUMENT', message: /cidr: cannot be changed/ },
      { what: "a subnet's IP version", attempt: () => client.command('subnet.update', { id: subnetId, ipVersion: 6 } as never, a), code: 'INVALID_ARGUMENT', message: /ipVersion: cannot be changed/ },
      { what: "a network's tenant", attempt: () => client.command('network.update', { id: networkId, tenant: 'tenant-b' } as never, a), code: 'INVALID_ARGUMENT', message: /tenant: cannot be changed/ },
      {
        what: 'fixed IP outside the subnet',
        attempt: () => client.command('port.update', { id: portId, fixedIps: [{ subnetId, ip: '10.0.1.5' }] }, a),
        code: 'INVALID_ARGUMENT',
        message: /address 10\.0\.1\.5 is outside subnet/,
      },
      {
        what: 'fixed IP taken',
        attempt: () => client.command('port.update', { id: portId, fixedIps: [{ ip: '10.0.0.20' }] }, a),
        code: 'ALREADY_EXISTS',
        message: new RegExp(`address 10\\.0\\.0\\.20 on subnet ${subnetId} is already used by port ${otherId}`),
      },
      {
        what: 'host route nexthop outside the subnet',
        attempt: () => client.command('subnet.update', { id: subnetId, hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.9.9.9' }] }, a),
        code: 'INVALID_ARGUMENT',
        message: 'host route to 192.0.2.0/24: nexthop 10.9.9.9 is outside the subnet 10.0.0.0/24',
      },
      {
        what: 'pool shrink past an allocation',
        attempt: () => client.command('subnet.update', { id: subnetId, allocationPools: [{ start: '10.0.0.15', end: '10.0.0.200' }] }, a),
        code: 'INVALID_ARGUMENT',
        message: /the new allocation pools leave out 10\.0\.0\.11, assigned to port/,
      },
      {
        what: 'router route via no subnet of the router',
        attempt: () => client.command('router.update', { id: routerId, routes: [{ destination: '0.0.0.0/0', nexthop: '192.0.2.1' }] }, a),
        code: 'INVALID_ARGUMENT',
        message: /nexthop 192\.0\.2\.1 is in none of router .* subnets \(10\.0\.0\.0\/24\)/,
      },
      { what: "another tenant's port", attempt: () => client.command('port.update', { id: portId, name: 'mine' }, b), code: 'NOT_FOUND', message: `port ${portId} not found` },
    ]);
  });

  it('concurrent updates over two instances naming the same revision: exactly one is written, the others are refused as stale', async () => {
    const port = await client.command('port.create', { networkId, fixedIps: [] }, a);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => client.command('port.update', { id: port.id, name: `n${i}`, expectedRevision: port.revision }, a)),
    );
    const ok = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code: string; message: string }] : []));
    expect(ok).toHaveLength(1);
    expect(refused.map((e) => e.code)).toEqual(Array(11).fill('FAILED_PRECONDITION'));
    expect(await client.query('port.get', { id: port.id }, a)).toMatchObject({ name: ok[0]!.name, revision: 2 });
  });

  it('concurrent moves of several ports to one free address over two instances: one port gets it', async () => {
    const ports = await Promise.all(Array.from({ length: 6 }, () => client.command('port.create', { networkId, fixedIps: [{ subnetId }] }, a)));
    const outcomes = await Promise.allSettled(ports.map((p) => client.command('port.update', { id: p.id, fixedIps: [{ ip: '10.0.0.99' }] }, a)));
    const winners = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('ALREADY_EXISTS'));
    const holders = (await client.query('port.list', { networkId }, a)).items.filter((p) => p.fixedIps.some((f) => f.ip === '10.0.0.99'));
    expect(holders.map((p) => p.id)).toEqual([winners[0]!.id]);
    await Promise.all(ports.map((p) => client.command('port.delete', { id: p.id }, a)));
  });

  it('sets subnet DHCP options and router routes; after all of it the state is what a replay of the log gives', async () => {
    const subnet = await client.command(
      'subnet.update',
      { id: subnetId, enableDhcp: false, dnsNameservers: ['192.0.2.53'], hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }] },
      a,
    );
    expect(subnet).toMatchObject({ enableDhcp: false, dnsNameservers: ['192.0.2.53'], hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }], revision: 2 });
    const router = await client.command('router.update', { id: routerId, routes: [{ destination: '198.51.100.0/24', nexthop: '10.0.0.20' }] }, a);
    expect(router).toMatchObject({ routes: [{ destination: '198.51.100.0/24', nexthop: '10.0.0.20' }], revision: 3 });
    const live = await client.query('state.digest', {}, a);
    expect(await replayDigest(store)).toEqual(live);
  });
});
