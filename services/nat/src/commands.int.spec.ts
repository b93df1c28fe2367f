/**
 * nat's commands over NATS against a real IPAM: every invalid input is
 * refused with its code and message and writes no event; an association
 * survives a restart (state = full replay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import type { NatCommandInput, NatCommandName } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { ADMIN, IpamClient, NatClient, replayDigest, startIpam, startNat, type Principal } from './test/support.js';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('nat commands', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let nat: ManagedProcess;
  let ipamClient: IpamClient;
  let client: NatClient;
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let poolId: string;
  let networkId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    nat = startNat(nats.url, nats.env('nat'));
    await Promise.all([ipam.ready, nat.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    // One read-your-writes position for both clients, as in the api: nat answers after it has seen IPAM's writes.
    client = new NatClient(ipamClient.nc, 15_000, ipamClient.seq);
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    poolId = (await ipamClient.command('pool.create', { name: 'fip', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, ADMIN)).id;
    networkId = (await ipamClient.command('network.create', { name: 'n' }, tenantA)).id;
    await ipamClient.command('subnet.create', { networkId, cidr: '10.0.0.0/24' }, tenantA);
    await ipamClient.command('subnet.create', { networkId, cidr: '2001:db8::/64' }, tenantA);
  });

  afterAll(async () => {
    await ipamClient?.close();
    await nc?.close();
    await nat?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  const fip = async (who: Principal) => ipamClient.command('floatingip.create', { poolId }, who);

  it('refuses every invalid input with its code and message, writing no event', async () => {
    const mine = await fip(tenantA);
    const theirs = await fip(tenantB);
    const port = await ipamClient.command('port.create', { networkId }, tenantA);
    const v6only = await ipamClient.command('port.create', { networkId, fixedIps: [{ ip: '2001:db8::99' }] }, tenantA);
    const bare = await ipamClient.command('port.create', { networkId, fixedIps: [] }, tenantA);
    const other = await ipamClient.command('port.create', { networkId }, tenantA);
    const busy = await fip(tenantA);
    await client.command('floatingip.associate', { floatingIpId: busy.id, portId: other.id }, tenantA);
    const netB = await ipamClient.command('network.create', { name: 'b' }, tenantB);
    await ipamClient.command('subnet.create', { networkId: netB.id, cidr: '10.0.0.0/24' }, tenantB);
    const theirPort = await ipamClient.command('port.create', { networkId: netB.id }, tenantB);
    const router = await ipamClient.command('router.create', { name: 'r' }, tenantA);
    const v4 = port.fixedIps.find((f) => !f.ip.includes(':'))!.ip;
    const otherV4 = other.fixedIps.find((f) => !f.ip.includes(':'))!.ip;

    const cases: Array<[string, NatCommandName, NatCommandInput<NatCommandName>, Principal, string, string | RegExp]> = [
      ['unknown floating IP', 'floatingip.associate', { floatingIpId: MISSING, portId: port.id }, tenantA, 'NOT_FOUND', `floating IP ${MISSING} not found`],
      ["another tenant's floating IP", 'floatingip.associate', { floatingIpId: theirs.id, portId: port.id }, tenantA, 'NOT_FOUND', `floating IP ${theirs.id} not found`],
      ['unknown port', 'floatingip.associate', { floatingIpId: mine.id, portId: MISSING }, tenantA, 'NOT_FOUND', `port ${MISSING} not found`],
      ["another tenant's port", 'floatingip.associate', { floatingIpId: mine.id, portId: theirPort.id }, tenantA, 'NOT_FOUND', `port ${theirPort.id} not found`],
      ['two tenants (admin)', 'floatingip.associate', { floatingIpId: mine.id, portId: theirPort.id }, ADMIN, 'INVALID_ARGUMENT', /can only be associated with a port of its own tenant/],
      ['port without IPv4', 'floatingip.associate', { floatingIpId: mine.id, portId: v6only.id }, tenantA, 'FAILED_PRECONDITION', `port ${v6only.id} has no IPv4 address to translate floating IP ${mine.address} to`],
      ['port without address', 'floatingip.associate', { floatingIpId: mine.id, portId: bare.id }, tenantA, 'FAILED_PRECONDITION', `port ${bare.id} has no IPv4 address to translate floating IP ${mine.address} to`],
      ['fixed IP not the port’s', 'floatingip.associate', { floatingIpId: mine.id, portId: port.id, fixedIp: '10.0.0.250' }, tenantA, 'INVALID_ARGUMENT', `fixedIp 10.0.0.250 is not an IPv4 address of port ${port.id}; its IPv4 addresses: ${v4}`],
      ['fixed IP no address', 'floatingip.associate', { floatingIpId: mine.id, portId: port.id, fixedIp: 'x' }, tenantA, 'INVALID_ARGUMENT', /^invalid request: fixedIp: /],
      ['floating IP id no UUID', 'floatingip.associate', { floatingIpId: 'fip-1', portId: port.id }, tenantA, 'INVALID_ARGUMENT', /^invalid request: floatingIpId: must be a lowercase UUID/],
      ['already associated', 'floatingip.associate', { floatingIpId: busy.id, portId: port.id }, tenantA, 'FAILED_PRECONDITION', `floating IP ${busy.id} (${busy.address}) is already associated with port ${other.id} (fixed IP ${otherV4}); disassociate it first`],
      ['fixed IP taken', 'floatingip.associate', { floatingIpId: mine.id, portId: other.id }, tenantA, 'FAILED_PRECONDITION', `fixed IP ${otherV4} of port ${other.id} already has floating IP ${busy.id} (${busy.address}); disassociate it first`],
      ["disassociate another tenant's", 'floatingip.disassociate', { floatingIpId: busy.id }, tenantB, 'NOT_FOUND', `floating IP ${busy.id} not found`],
      ['unknown router', 'router.setGateway', { routerId: MISSING, enabled: true }, tenantA, 'NOT_FOUND', `router ${MISSING} not found`],
      ["another tenant's router", 'router.setGateway', { routerId: router.id, enabled: true }, tenantB, 'NOT_FOUND', `router ${router.id} not found`],
      ['enabled missing', 'router.setGateway', { routerId: router.id } as never, tenantA, 'INVALID_ARGUMENT', /^invalid request: enabled: /],
    ];
    await expectRefusedWithoutEvents(
      store,
      cases.map(([what, op, body, who, code, message]) => ({ what, attempt: () => client.command(op, body as never, who), code, message })),
    );

    // Done already: the same association, a disassociation of nothing, an unchanged gateway — no event either.
    const before = await store.lastSeq();
    expect(await client.command('floatingip.associate', { floatingIpId: busy.id, portId: other.id }, tenantA)).toMatchObject({ portId: other.id, fixedIp: otherV4 });
    expect(await client.command('floatingip.disassociate', { floatingIpId: mine.id }, tenantA)).toMatchObject({ portId: null });
    expect(await client.command('router.setGateway', { routerId: router.id, enabled: false }, tenantA)).toEqual({ routerId: router.id, tenant: 'tenant-a', externalGateway: false, externalNetworkId: null });
    expect(await store.lastSeq()).toBe(before);
  });

  it('keeps associations and gateways across a restart; the state equals a full replay', async () => {
    const f = await fip(tenantA);
    const port = await ipamClient.command('port.create', { networkId, hostId: null }, tenantA);
    const router = await ipamClient.command('router.create', { name: 'edge' }, tenantA);
    const view = await client.command('floatingip.associate', { floatingIpId: f.id, portId: port.id }, tenantA);
    expect(view).toEqual({ floatingIpId: f.id, tenant: 'tenant-a', address: f.address, portId: port.id, fixedIp: expect.stringMatching(/^10\.0\.0\./), networkId, hostId: null, revision: 2 });
    expect(await client.command('router.setGateway', { routerId: router.id, enabled: true }, tenantA)).toMatchObject({ externalGateway: true });

    const seq = await store.lastSeq();
    const before = await client.query('state.digest', {}, ADMIN);
    expect(before).toEqual(await replayDigest(store, seq));

    // Graceful stop writes a snapshot; the new instance starts from it (and from a full replay with snapshots off).
    for (const extra of [{}, { NAT_USE_SNAPSHOT: 'false' }] as Record<string, string>[]) {
      await nat.stop();
      nat = startNat(nats.url, { ...nats.env('nat'), ...extra });
      await nat.ready;
      expect(await client.query('state.digest', {}, ADMIN)).toEqual(before);
      expect(await client.query('floatingip.get', { id: f.id }, tenantA)).toEqual(view);
      expect(await client.query('router.get', { id: router.id }, tenantA)).toMatchObject({ externalGateway: true });
    }
    expect((await client.query('floatingip.list', {}, tenantA)).items.map((v) => v.floatingIpId)).toContain(f.id);
    expect((await client.query('floatingip.list', {}, tenantB)).items.every((v) => v.tenant === 'tenant-b')).toBe(true);
  });
});
