/**
 * The GARP reaction end to end over NATS: IPAM's record that a virtual IP's
 * owner changed (`ipam.AddressPairOwnerChanged`) makes the member whose leg
 * owns it active, through chaining's durable reactor with the production
 * users, once. Everything IPAM records comes from real IPAM: the pairs from
 * `port.setAllowedAddressPairs`, the owner from a gratuitous-ARP report the
 * port's own agent publishes (as the agent's NATS user).
 *
 * And a leg port deleted or unbound in IPAM makes its function unhealthy
 * (`port-unbound`) and fails its active-standby group over, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { garpObservationSubject, type GarpObservation } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import type { NatsConnection } from 'nats';
import { ADMIN, ChainingClient, eventsOf, IpamClient, startChaining, startIpam, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const VIP = '10.0.0.100';

describe('chaining reactor (GARP, deleted legs)', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let chaining: ManagedProcess;
  let chaining2: ManagedProcess;
  let ipamClient: IpamClient;
  let client: ChainingClient;
  let store: JetStreamEventStore;
  const agents = new Map<string, NatsConnection>();

  /** The agent of `host` saw a gratuitous ARP from one of its ports (IPAM judges it and records the new owner). */
  const garp = (host: string, r: Omit<GarpObservation, 'hostId'>) => agents.get(host)!.publish(garpObservationSubject(host), JSON.stringify({ hostId: host, ...r }));

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2'] });
    ipam = startIpam(nats.url, nats.env('ipam'));
    // Two instances share the reactor's durable consumer: each reaction is written once whichever decides it.
    chaining = startChaining(nats.url, nats.env('chaining'));
    chaining2 = startChaining(nats.url, nats.env('chaining'), 'chaining-2');
    await Promise.all([ipam.ready, chaining.ready, chaining2.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    client = new ChainingClient(ipamClient.nc, 15_000, ipamClient.seq);
    const pool = await ipamClient.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']] as const) await ipamClient.command('hypervisor.register', { id, vtepIp, hostPoolId: pool.id }, ADMIN);
    for (const host of ['hv1', 'hv2']) agents.set(host, await nats.connect(`agent-${host}`));
    store = await JetStreamEventStore.open(await nats.connect('api'));
  }, 60_000);

  afterAll(async () => {
    for (const nc of agents.values()) await nc.close();
    await ipamClient?.close();
    await chaining2?.stop();
    await chaining?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('makes the member whose leg now owns the virtual IP active, once', async () => {
    const net = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, tenantA);
    const p1 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const p2 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv2' }, tenantA);

    // Without a pair the VIP is refused; with one it is taken.
    await expect(client.command('function.create', { ingressPortId: p1.id, virtualIp: VIP }, tenantA)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    for (const p of [p1, p2]) await ipamClient.command('port.setAllowedAddressPairs', { id: p.id, allowedAddressPairs: [{ ipAddress: VIP }] }, tenantA);
    const f1 = await client.command('function.create', { name: 'a', ingressPortId: p1.id, virtualIp: VIP }, tenantA);
    const f2 = await client.command('function.create', { name: 'b', ingressPortId: p2.id, virtualIp: VIP }, tenantA);
    const group = await client.command('group.create', { functionIds: [f1.id, f2.id] }, tenantA);
    expect(group.activeFunctionId).toBe(f1.id);

    const owners = async () => (await eventsOf(store, `strata.evt.ipam.network.${net.id}`)).filter((e) => e.type === 'ipam.AddressPairOwnerChanged');
    // The active member's own GARP: IPAM records its leg as the owner; the member is active already, so nothing changes here.
    garp('hv1', { portId: p1.id, ip: VIP, mac: p1.mac });
    await waitFor(async () => (await owners()).length === 1, { message: 'IPAM to record the first owner' });

    // keepalived on the standby took over: its host saw the GARP, IPAM recorded the owner.
    garp('hv2', { portId: p2.id, ip: VIP, mac: p2.mac });
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === f2.id, { message: 'the reactor to move the active member' });
    const changes = async () => (await eventsOf(store, `strata.evt.chaining.group.${group.id}`)).filter((e) => e.type === 'chaining.ActiveFunctionChanged');
    expect((await changes()).at(-1)).toMatchObject({ data: { functionId: f2.id, previousFunctionId: f1.id, reason: 'garp', observedBy: 'hv2' } });

    expect((await owners()).at(-1)).toMatchObject({ data: { ip: VIP, portId: p2.id, previousPortId: p1.id, observedBy: 'hv2' } });

    // The first member takes the VIP back: one more move, no more. (Repeated reports writing nothing is IPAM's test,
    // test/ipam/address-pairs.int.spec.ts: here a repeat of hv2's report sent just before would race hv1's across the
    // two IPAM instances of the queue group, and whichever is handled last wins.)
    garp('hv1', { portId: p1.id, ip: VIP, mac: p1.mac });
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === f1.id, { message: 'the move back' });
    expect((await changes()).map((e) => (e.data as { reason: string }).reason)).toEqual(['initial', 'garp', 'garp']);
    expect((await owners()).map((e) => (e.data as { portId: string }).portId)).toEqual([p1.id, p2.id, p1.id]);
  });

  it('a deleted or unbound leg makes its function unhealthy (port-unbound) and fails the group over, once', async () => {
    const net = await ipamClient.command('network.create', { name: 'legs' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: net.id, cidr: '10.1.0.0/24' }, tenantA);
    const p1 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv1' }, tenantA);
    const p2 = await ipamClient.command('port.create', { networkId: net.id, hostId: 'hv2' }, tenantA);
    const f1 = await client.command('function.create', { name: 'a', ingressPortId: p1.id }, tenantA);
    const f2 = await client.command('function.create', { name: 'b', ingressPortId: p2.id }, tenantA);
    const group = await client.command('group.create', { functionIds: [f1.id, f2.id] }, tenantA);
    expect(group.activeFunctionId).toBe(f1.id);

    // Moving the active leg to another host is not a deletion: nothing changes.
    await ipamClient.command('port.bind', { id: p1.id, hostId: 'hv2' }, tenantA);
    await ipamClient.command('port.delete', { id: p1.id }, tenantA);
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === f2.id, { message: 'the reactor to fail the group over' });
    const health = (await eventsOf(store, `strata.evt.chaining.function.${f1.id}`)).filter((e) => e.type === 'chaining.FunctionHealthChanged');
    expect(health.map((e) => e.data)).toEqual([{ functionId: f1.id, healthy: false, reason: 'port-unbound', observedBy: '', detail: `its ingress port ${p1.id} was deleted` }]);
    expect(await client.query('function.get', { id: f1.id }, tenantA)).toMatchObject({ healthy: false });
    const moves = (await eventsOf(store, `strata.evt.chaining.group.${group.id}`)).filter((e) => e.type === 'chaining.ActiveFunctionChanged');
    expect(moves.map((e) => e.data)).toMatchObject([{ reason: 'initial' }, { functionId: f2.id, previousFunctionId: f1.id, reason: 'health' }]);

    // The other member's leg unbound from its host (its VM stopped): no usable member is left.
    await ipamClient.command('port.bind', { id: p2.id, hostId: null }, tenantA);
    await waitFor(async () => (await client.query('group.get', { id: group.id }, tenantA)).activeFunctionId === null, { message: 'the reactor to leave no active member' });
    const health2 = (await eventsOf(store, `strata.evt.chaining.function.${f2.id}`)).filter((e) => e.type === 'chaining.FunctionHealthChanged');
    expect(health2.map((e) => e.data)).toEqual([{ functionId: f2.id, healthy: false, reason: 'port-unbound', observedBy: '', detail: `its ingress port ${p2.id} was unbound from its host` }]);
  });
});
