/**
 * The GARP reaction end to end over NATS: IPAM's record that a virtual IP's
 * owner changed (`ipam.AddressPairOwnerChanged`) makes the member whose leg
 * owns it active, through chaining's durable reactor with the production
 * users, once. IPAM's allowed-address-pair events are added by helper aap in
 * parallel; until they are in IPAM's registry they are appended here raw,
 * as the ipam NATS user, in the shape that work writes (on an IPAM network
 * aggregate of their own: IPAM of this build quarantines it, nothing else).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkAggregate } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, ChainingClient, eventsOf, IpamClient, startChaining, startIpam, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const VIP = '10.0.0.100';

describe('chaining reactor (GARP)', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let chaining: ManagedProcess;
  let ipamClient: IpamClient;
  let client: ChainingClient;
  let asIpam: JetStreamEventStore;
  let store: JetStreamEventStore;
  const side = networkAggregate(randomUUID());

  /** An IPAM event of aap's, appended as the ipam service would. */
  const ipamEvent = (type: string, data: Record<string, unknown>) =>
    asIpam.append(
      side,
      { id: randomUUID(), type, version: 1, aggregate: side, data, tenant: 'tenant-a', actor: 'ipam', occurredAt: new Date().toISOString(), correlationId: 'c', causationId: null },
      { expectedVersion: 'any' },
    );

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2'] });
    ipam = startIpam(nats.url, nats.env('ipam'));
    chaining = startChaining(nats.url, nats.env('chaining'));
    await Promise.all([ipam.ready, chaining.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new ChainingClient(ipamClient.nc, 15_000, ipamClient.seq);
    asIpam = await JetStreamEventStore.open(await nats.connect('ipam'));
    store = await JetStreamEventStore.open(await nats.connect('api'));
  }, 60_000);

  afterAll(async () => {
    await ipamClient?.close();
    await chaining?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('makes the member whose leg now owns the virtual IP active, once', async () => {
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']] as const) await ipamClient.command('hypervisor.register', { id, vtepIp, hostPoolId: pool.id }, ADMIN);
    const net = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    const p1 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const p2 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv2' }, tenantA);

    // Without a pair the VIP is refused; with one it is taken.
    await expect(client.command('function.create', { ingressPortId: p1.id, virtualIp: VIP }, tenantA)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    for (const p of [p1, p2]) await ipamEvent('ipam.PortAllowedAddressPairsSet', { portId: p.id, allowedAddressPairs: [{ ipAddress: VIP, macAddress: '02:53:54:00:aa:aa' }] });
    ipamClient.seq.observe(await store.lastSeq());
    const f1 = await client.command('function.create', { name: 'a', ingressPortId: p1.id, virtualIp: VIP }, tenantA);
    const f2 = await client.command('function.create', { name: 'b', ingressPortId: p2.id, virtualIp: VIP }, tenantA);
    const group = await client.command('group.create', { functionIds: [f1.id, f2.id] }, tenantA);
    expect(group.activeFunctionId).toBe(f1.id);

    // keepalived on the standby took over: its host saw the GARP, IPAM recorded the owner.
    const owner = { networkId: net.id, ip: VIP, portId: p2.id, mac: p2.mac, previousPortId: p1.id, observedBy: 'hv2' };
    await ipamEvent('ipam.AddressPairOwnerChanged', owner);
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === f2.id, { message: 'the reactor to move the active member' });
    const changes = async () => (await eventsOf(store, `strata.evt.chaining.group.${group.id}`)).filter((e) => e.type === 'chaining.ActiveFunctionChanged');
    expect((await changes()).at(-1)).toMatchObject({ data: { functionId: f2.id, previousFunctionId: f1.id, reason: 'garp', observedBy: 'hv2' } });

    // The same record again (a redelivery, a second instance): nothing more. A later event shows the reactor got past it.
    await ipamEvent('ipam.AddressPairOwnerChanged', owner);
    await ipamEvent('ipam.AddressPairOwnerChanged', { ...owner, portId: p1.id, mac: p1.mac, previousPortId: p2.id, observedBy: 'hv1' });
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === f1.id, { message: 'the move back' });
    expect((await changes()).map((e) => (e.data as { reason: string }).reason)).toEqual(['initial', 'garp', 'garp']);
  });
});
