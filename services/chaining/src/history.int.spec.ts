/**
 * chaining's `history` query over NATS (issue 16, "state at any point"),
 * asked through the ContractClient as the api asks it, against real IPAM
 * and chaining processes with their production NATS users: a function's and
 * its group's versions, including what chaining's reactor wrote after IPAM
 * deleted the function's leg, each rebuilt from the resource's own
 * aggregate; the owning tenant sees them, another tenant gets NOT_FOUND
 * exactly as for a function that never existed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, ChainingClient, IpamClient, startChaining, startIpam, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('chaining history', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let chaining: ManagedProcess;
  let ipamClient: IpamClient;
  let client: ChainingClient;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1'] });
    ipam = startIpam(nats.url, nats.env('ipam'));
    chaining = startChaining(nats.url, nats.env('chaining'));
    await Promise.all([ipam.ready, chaining.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new ChainingClient(ipamClient.nc, 15_000, ipamClient.seq);
    store = await JetStreamEventStore.open(await nats.connect('api'));
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    await ipamClient.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: pool.id }, ADMIN);
  }, 60_000);

  afterAll(async () => {
    await ipamClient?.close();
    await chaining?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('answers a function\'s and its group\'s versions to the owner, the reactor\'s changes included; NOT_FOUND to another tenant', async () => {
    const net = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    const leg = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const created = await client.command('function.create', { name: 'fw', ingressPortId: leg.id }, tenantA);
    const renamed = await client.command('function.update', { id: created.id, name: 'fw-1' }, tenantA);
    const atRename = client.lastSeq;
    const group = await client.command('group.create', { name: 'fws', functionIds: [created.id] }, tenantA);
    expect(group.activeFunctionId).toBe(created.id);
    // IPAM deletes the leg: the reactor marks the function unhealthy and leaves the group without an active member.
    await ipamClient.command('port.delete', { id: leg.id }, tenantA);
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === null, { message: 'the reactor to fail the group over' });
    const fn = await client.query('function.get', { id: created.id }, tenantA);
    const groupNow = await client.query('group.get', { id: group.id }, tenantA);
    const end = await store.lastSeq();

    const h = await client.query('history', { kind: 'sfc-function', id: created.id, aggregateId: created.id, toSeq: end }, tenantA);
    expect(h).toMatchObject({ kind: 'sfc-function', tenant: 'tenant-a', eventsRead: 3, unreadable: [] });
    expect(h.versions.map((v) => v.event.type)).toEqual(['chaining.ServiceFunctionCreated', 'chaining.ServiceFunctionUpdated', 'chaining.FunctionHealthChanged']);
    expect(h.versions.map((v) => v.view)).toEqual([created, renamed, fn]);
    expect(fn).toMatchObject({ healthy: false });
    expect(h.versions[0]!.event.actor).toBe('tenant-a-user');

    // The group: created, its first active member (the creation's second step), then none (the reactor's).
    const g = await client.query('history', { kind: 'sfc-group', id: group.id, aggregateId: group.id, toSeq: end }, tenantA);
    expect(g.versions.map((v) => v.event.type)).toEqual(['chaining.FunctionGroupCreated', 'chaining.ActiveFunctionChanged', 'chaining.ActiveFunctionChanged']);
    expect(g.versions.map((v) => v.view!['activeFunctionId'])).toEqual([null, created.id, null]);
    expect(g.versions.at(-1)!.view).toEqual(groupNow);

    // At an earlier position: as it was then. An admin sees the same.
    const then = await client.query('history', { kind: 'sfc-function', id: created.id, aggregateId: created.id, toSeq: atRename }, ADMIN);
    expect(then.versions.map((v) => v.view)).toEqual([created, renamed]);

    // Another tenant: NOT_FOUND, in the same words as for a function that never existed.
    const refusal = (id: string, who: Principal) =>
      client.query('history', { kind: 'sfc-function', id, aggregateId: id, toSeq: end }, who).then(
        () => undefined,
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message.replace(id, '<id>') }),
      );
    const theirs = await refusal(created.id, tenantB);
    expect(theirs).toMatchObject({ code: 'NOT_FOUND' });
    expect(theirs).toEqual(await refusal(MISSING, tenantB));
    expect(theirs).toEqual(await refusal(MISSING, tenantA));
    // A group asked under another aggregate is refused: a chaining resource is its own aggregate.
    await expect(client.query('history', { kind: 'sfc-group', id: group.id, aggregateId: created.id, toSeq: end }, tenantA)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('aggregateId must equal id'),
    });
  });
});
