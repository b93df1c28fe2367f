/**
 * IPAM's `history` query through the real service on real NATS (production
 * users, signed requests): a tenant's network and port version by version,
 * each version with the event that made it; at an earlier position the
 * resource as it was then; the last version what the live query answers;
 * another tenant, and a tenant asking for a pool, get NOT_FOUND exactly as
 * for a missing resource; a kind of another service is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { StrataError } from '@strata/errors';
import { CLOUD_AGGREGATE, networkAggregate, type ResourceHistoryRequest } from '@strata/contracts';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { ADMIN, IpamClient, startIpam, type IpamProcess, type Principal } from '../support/ipam.js';

const a: Principal = { tenant: 'tenant-a', admin: false, actor: 'alice' };
const b: Principal = { tenant: 'tenant-b', admin: false, actor: 'bob' };

describe('IPAM history over NATS', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let client: IpamClient;
  let nc: NatsConnection;
  let store: EventStore;
  let networkId: string;
  let portId: string;
  let poolId: string;
  let created: number;
  let renamed: number;

  const refusal = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'answered',
      (e: StrataError) => `${e.code}: ${e.message}`,
    );

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    client = new IpamClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    poolId = (await client.command('pool.create', { name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, ADMIN)).id;
    networkId = (await client.command('network.create', { name: 'web' }, a)).id;
    created = client.lastSeq;
    await client.command('subnet.create', { networkId, cidr: '10.0.0.0/24' }, a);
    portId = (await client.command('port.create', { networkId, name: 'vm-1', fixedIps: [{ ip: '10.0.0.10' }] }, a)).id;
    await client.command('network.update', { id: networkId, name: 'web-tier', mtu: 1400 }, a);
    renamed = client.lastSeq;
    await client.command('port.update', { id: portId, name: 'vm-1b' }, a);
    await client.command('port.delete', { id: portId }, a);
  });

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await ipam?.stop();
    await nats?.stop();
  });

  const network = (toSeq: number): ResourceHistoryRequest => ({ kind: 'network', id: networkId, aggregateId: networkId, toSeq });
  const port = (toSeq: number): ResourceHistoryRequest => ({ kind: 'port', id: portId, aggregateId: networkId, toSeq });

  it("a network's versions: its creation (on the cloud aggregate) and its update, each with the event that made it; the last is what network.get answers", async () => {
    const h = await client.query('history', network(client.lastSeq), a);
    expect(h.tenant).toBe('tenant-a');
    expect(h.versions.map((v) => [v.event.seq, v.event.type, v.event.actor, v.view?.name, v.view?.mtu])).toEqual([
      [created, 'ipam.NetworkCreated', 'alice', 'web', expect.any(Number)],
      [renamed, 'ipam.NetworkUpdated', 'alice', 'web-tier', 1400],
    ]);
    expect(h.versions.at(-1)!.view).toEqual(await client.query('network.get', { id: networkId }, a));
    // Read: the network's own events and the cloud aggregate's (where it was created), nothing else.
    const own = (await store.readAggregate(networkAggregate(networkId))).events.length;
    const cloud = (await store.readAggregate(CLOUD_AGGREGATE)).events.length;
    expect(h.eventsRead).toBe(own + cloud);
    expect(h.unreadable).toEqual([]);
  });

  it('a port: created, renamed, deleted (a null version); asked at an earlier position, as it was then', async () => {
    const h = await client.query('history', port(client.lastSeq), a);
    expect(h.versions.map((v) => [v.event.type, v.view?.name ?? null])).toEqual([
      ['ipam.PortCreated', 'vm-1'],
      ['ipam.PortUpdated', 'vm-1b'],
      ['ipam.PortDeleted', null],
    ]);
    expect(h.versions[0]!.view).toMatchObject({ fixedIps: [{ ip: '10.0.0.10' }], tenant: 'tenant-a', networkId });
    const then = await client.query('history', port(renamed), a);
    expect(then.versions.map((v) => v.view?.name)).toEqual(['vm-1']);
  });

  it("another tenant gets NOT_FOUND, worded exactly as for a resource that never existed", async () => {
    const theirs = await refusal(client.query('history', network(client.lastSeq), b));
    const missing = await refusal(client.query('history', { ...network(client.lastSeq), id: 'no-such-network', aggregateId: 'no-such-network' }, b));
    expect(theirs).toMatch(/^NOT_FOUND: /);
    expect(theirs.replace(networkId, 'no-such-network')).toBe(missing);
    expect(await refusal(client.query('history', port(client.lastSeq), b))).toMatch(/^NOT_FOUND: /);
  });

  it('a pool is for admins: NOT_FOUND to a tenant, its versions to an admin', async () => {
    const req: ResourceHistoryRequest = { kind: 'pool', id: poolId, aggregateId: 'default', toSeq: client.lastSeq };
    expect(await refusal(client.query('history', req, a))).toMatch(/^NOT_FOUND: /);
    const h = await client.query('history', req, ADMIN);
    expect(h.tenant).toBe('_system');
    expect(h.versions.map((v) => v.view?.name)).toEqual(['public']);
  });

  it("refuses a kind of another service and a wrong aggregate with INVALID_ARGUMENT", async () => {
    expect(await refusal(client.query('history', { kind: 'security-group', id: 'g1', aggregateId: 'g1', toSeq: 1 }, a))).toBe(
      'INVALID_ARGUMENT: kind security-group belongs to secgroup, not ipam',
    );
    expect(await refusal(client.query('history', { ...network(client.lastSeq), aggregateId: 'other' }, a))).toMatch(/^INVALID_ARGUMENT: a network is its own aggregate/);
    expect(await refusal(client.query('history', { ...network(client.lastSeq), toSeq: 0 }, a))).toMatch(/^INVALID_ARGUMENT: /);
  });
});
