/**
 * nat's `history` query over a real nats-server, asked through the
 * ContractClient (replies checked against the contract) of real IPAM and nat
 * processes: the owning tenant gets every version of its association and
 * gateway (who, when, why; only that aggregate's events read), at any
 * position; another tenant, a missing resource and another service's kind
 * are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natContract } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { commandSignerFrom, ContractClient, NatsRequester } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import { ADMIN, eventsOf, IpamClient, NatClient, startIpam, startNat, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe("nat's history over NATS", () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let nat: ManagedProcess;
  let ipamClient: IpamClient;
  let client: NatClient;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    nat = startNat(nats.url, nats.env('nat'));
    await Promise.all([ipam.ready, nat.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new NatClient(ipamClient.nc, 15_000, ipamClient.seq);
    store = await JetStreamEventStore.open(ipamClient.nc);
  });

  afterAll(async () => {
    await ipamClient?.close();
    await nat?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('answers the owner every version with who, when and why, reading only the aggregate; refuses others', async () => {
    const poolId = (await ipamClient.command('pool.create', { name: 'fip', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, ADMIN)).id;
    const networkId = (await ipamClient.command('network.create', { name: 'n' }, tenantA)).id;
    await ipamClient.command('subnet.create', { networkId, cidr: '10.0.0.0/24' }, tenantA);
    const [web, db] = [await ipamClient.command('port.create', { networkId }, tenantA), await ipamClient.command('port.create', { networkId }, tenantA)];
    const fip = await ipamClient.command('floatingip.create', { poolId }, tenantA);
    const router = await ipamClient.command('router.create', { name: 'edge' }, tenantA);

    await client.command('floatingip.associate', { floatingIpId: fip.id, portId: web.id }, tenantA);
    const first = client.lastSeq;
    // The move, with a reason: the reason rides on the request's metadata to the event and into the history.
    const raw = new ContractClient(natContract, new NatsRequester(ipamClient.nc, { timeoutMs: 15_000, signer: commandSignerFrom() }), ipamClient.seq);
    await raw.command('floatingip.disassociate', { floatingIpId: fip.id }, { ...client.meta(tenantA), reason: 'moving the address to db' });
    await client.command('floatingip.associate', { floatingIpId: fip.id, portId: db.id }, tenantA);
    await client.command('router.setGateway', { routerId: router.id, enabled: true }, tenantA);
    // Unrelated writes after: not read by the answer.
    await ipamClient.command('port.create', { networkId }, tenantA);
    const end = await store.lastSeq();

    const subject = store.subjectOf({ context: 'nat', type: 'floatingip', id: fip.id });
    const own = await eventsOf(store, subject);
    expect(own.map((e) => e.type)).toEqual(['nat.FloatingIpAssociated', 'nat.FloatingIpDisassociated', 'nat.FloatingIpAssociated']);

    const ask = { kind: 'floating-ip-association' as const, id: fip.id, aggregateId: fip.id, toSeq: end };
    const history = await client.query('history', ask, tenantA);
    const association = (port: string | null, fixedIp: string | null, revision: number) => ({
      floatingIpId: fip.id,
      tenant: 'tenant-a',
      portId: port,
      fixedIp,
      networkId: port ? networkId : null,
      revision,
    });
    const v4 = (p: typeof web) => p.fixedIps[0]!.ip;
    expect(history).toMatchObject({ kind: 'floating-ip-association', id: fip.id, tenant: 'tenant-a', eventsRead: 3, unreadable: [] });
    expect(history.versions.map((v) => v.view)).toEqual([association(web.id, v4(web), 2), association(null, null, 3), association(db.id, v4(db), 4)]);
    expect(history.versions.map((v) => [v.event.seq, v.event.eventId, v.event.type, v.event.actor, v.event.reason])).toEqual(
      own.map((e, i) => [e.seq, e.id, e.type, 'tenant-a-user', i === 1 ? 'moving the address to db' : null]),
    );
    // The last version is what floatingip.get answers now, less IPAM's address and host.
    const { address: _address, hostId: _hostId, ...now } = await client.query('floatingip.get', { id: fip.id }, tenantA);
    expect(history.versions.at(-1)!.view).toEqual(now);

    // At a point: only what the log held then.
    const then = await client.query('history', { ...ask, toSeq: first }, tenantA);
    expect(then.versions.map((v) => v.view)).toEqual([association(web.id, v4(web), 2)]);
    expect(then.eventsRead).toBe(1);

    expect(await client.query('history', { kind: 'router-gateway', id: router.id, aggregateId: router.id, toSeq: end }, tenantA)).toMatchObject({
      tenant: 'tenant-a',
      versions: [{ view: { routerId: router.id, tenant: 'tenant-a', externalGateway: true, externalNetworkId: null }, event: { type: 'nat.ExternalGatewayEnabled' } }],
      eventsRead: 1,
    });
    expect((await client.query('history', ask, ADMIN)).versions).toHaveLength(3);

    const refused = async (body: Parameters<typeof client.query<'history'>>[1], who: Principal) =>
      client.query('history', body, who).then(
        () => undefined,
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
      );
    // Another tenant's association, before it existed, an unknown one: all the same NOT_FOUND (no existence oracle).
    expect(await refused(ask, tenantB)).toEqual({ code: 'NOT_FOUND', message: `floating-ip-association ${fip.id} (in the log up to position ${end}) not found` });
    expect(await refused({ kind: 'router-gateway', id: router.id, aggregateId: router.id, toSeq: end }, tenantB)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refused({ ...ask, toSeq: first - 1 }, tenantA)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refused({ ...ask, id: MISSING, aggregateId: MISSING }, tenantA)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refused({ ...ask, kind: 'security-group' }, tenantA)).toEqual({ code: 'INVALID_ARGUMENT', message: 'kind security-group belongs to secgroup, not nat' });
    expect(await refused({ ...ask, aggregateId: MISSING }, tenantA)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refused({ ...ask, toSeq: 0 }, tenantA)).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
