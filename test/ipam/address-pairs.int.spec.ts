/**
 * Allowed address pairs and their owners across two IPAM instances on real
 * NATS with the production users: the owner event from an agent's GARP
 * report (the agent user, on its own status subject), written once however
 * many times the report arrives and whichever instance judges it; reports
 * from the wrong host or for an address outside the pairs are ignored and
 * write nothing.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { garpObservationSubject, networkAggregate, type GarpObservation, type PortView } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { startProvisionedNats } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { ADMIN, IpamClient, startIpam, type IpamProcess } from '../support/ipam.js';

const tenant = { tenant: 'tenant-a', admin: false };
const VIP = '10.0.0.100';

describe('two IPAM instances: the owner of an allowed address pair from GARP reports', () => {
  let nats: StrataNats;
  const instances: IpamProcess[] = [];
  let client: IpamClient;
  let store: JetStreamEventStore;
  let hv1: NatsConnection;
  let networkId: string;
  let a: PortView;
  let b: PortView;

  const ownerEvents = async () =>
    (await store.readAggregate(networkAggregate(networkId))).events.filter((e) => e.type === 'ipam.AddressPairOwnerChanged').map((e) => e.data);
  const publish = (nc: NatsConnection, host: string, r: GarpObservation): void => nc.publish(garpObservationSubject(host), JSON.stringify(r));
  /**
   * Every report published on `nc` so far has been judged: each instance judges its share in order, so once
   * both have logged an ignored sentinel sent after them, none is still in flight.
   */
  async function judged(nc: NatsConnection): Promise<void> {
    const logged = (p: IpamProcess, id: string) => p.output().includes(id);
    const pending = new Set(instances);
    while (pending.size > 0) {
      const sentinel = `sentinel-${randomUUID()}`;
      publish(nc, 'hv1', { hostId: 'hv1', portId: sentinel, ip: VIP, mac: a.mac });
      await nc.flush();
      await waitFor(() => instances.some((p) => logged(p, sentinel)), { message: 'sentinel judged' });
      for (const p of instances) if (logged(p, sentinel)) pending.delete(p);
    }
  }

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2'] });
    instances.push(startIpam(nats.url, nats.env('ipam')));
    await instances[0]!.ready;
    instances.push(startIpam(nats.url, nats.env('ipam')));
    await instances[1]!.ready;
    client = new IpamClient(await nats.connect('api'), 30_000);
    store = await JetStreamEventStore.open(await nats.connect('admin'));
    hv1 = await nats.connect('agent-hv1');
    const pool = await client.command('pool.create', { name: 'h', cidr: '203.0.113.0/24', purpose: 'host-ip' }, ADMIN);
    for (const [id, n] of [['hv1', 1], ['hv2', 2]] as const) await client.command('hypervisor.register', { id, vtepIp: `198.18.0.${n}`, hostPoolId: pool.id }, ADMIN);
    networkId = (await client.command('network.create', { name: 'vrrp' }, tenant)).id;
    await client.command('subnet.create', { networkId, cidr: '10.0.0.0/24' }, tenant);
    a = await client.command('port.create', { networkId, hostId: 'hv1', allowedAddressPairs: [{ ipAddress: VIP }] }, tenant);
    b = await client.command('port.create', { networkId, hostId: 'hv2' }, tenant);
    b = await client.command('port.setAllowedAddressPairs', { id: b.id, allowedAddressPairs: [{ ipAddress: VIP }] }, tenant);
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all(instances.map((i) => i.stop()));
    await nats?.stop();
  });

  it('the pairs are on the port view, with the port own MAC', () => {
    expect(a.allowedAddressPairs).toEqual([{ ipAddress: VIP, macAddress: a.mac }]);
    expect(b.allowedAddressPairs).toEqual([{ ipAddress: VIP, macAddress: b.mac }]);
  });

  it('the same GARP reported 20 times, judged by either instance: one owner event', async () => {
    for (let i = 0; i < 20; i++) publish(hv1, 'hv1', { hostId: 'hv1', portId: a.id, ip: VIP, mac: a.mac });
    await hv1.flush();
    await judged(hv1);
    expect(await ownerEvents()).toEqual([{ networkId, ip: VIP, portId: a.id, mac: a.mac, previousPortId: null, observedBy: 'hv1' }]);
    expect((await client.query('port.get', { id: a.id }, tenant)).ownedAddresses).toEqual([VIP]);
  });

  it('a report from the wrong host or for an address outside the pairs is ignored: no event', async () => {
    publish(hv1, 'hv1', { hostId: 'hv1', portId: b.id, ip: VIP, mac: b.mac });
    publish(hv1, 'hv1', { hostId: 'hv1', portId: a.id, ip: '10.0.0.7', mac: a.mac });
    publish(hv1, 'hv1', { hostId: 'hv1', portId: a.id, ip: VIP, mac: '02:00:00:00:99:99' });
    await judged(hv1);
    expect(await ownerEvents()).toHaveLength(1);
    expect((await client.query('port.get', { id: b.id }, tenant)).ownedAddresses).toEqual([]);
  });

  it('the standby taking over (its own host reporting) moves the owner; removing the pair ends the ownership without an event', async () => {
    const hv2 = await nats.connect('agent-hv2');
    publish(hv2, 'hv2', { hostId: 'hv2', portId: b.id, ip: VIP, mac: b.mac });
    await waitFor(async () => (await ownerEvents()).length === 2, { message: 'second owner event' });
    expect((await ownerEvents())[1]).toEqual({ networkId, ip: VIP, portId: b.id, mac: b.mac, previousPortId: a.id, observedBy: 'hv2' });
    expect((await client.query('port.get', { id: a.id }, tenant)).ownedAddresses).toEqual([]);
    await client.command('port.setAllowedAddressPairs', { id: b.id, allowedAddressPairs: [] }, tenant);
    expect((await client.query('port.get', { id: b.id }, tenant)).ownedAddresses).toEqual([]);
    await hv2.close();
  });
});
