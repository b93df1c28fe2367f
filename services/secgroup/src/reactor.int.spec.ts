/**
 * The port reactor with two secgroup instances: every IPAM port joins its
 * tenant's default group exactly once (one PortGroupsSet per port in the
 * log, one default group per tenant), and a deleted port is forgotten once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { defaultSecurityGroupId } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startProvisionedNats } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { eventsOf, IpamClient, SecgroupClient, startIpam, startSecgroup } from './test/support.js';

const tenantA = { tenant: 'tenant-a', admin: false };
const tenantB = { tenant: 'tenant-b', admin: false };

describe('the port reactor with two secgroup instances', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  const secgroups: ManagedProcess[] = [];
  let ipamClient: IpamClient;
  let sg: SecgroupClient;
  let nc: NatsConnection;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    await ipam.ready;
    secgroups.push(startSecgroup(nats.url, nats.env('secgroup'), 'secgroup-1'), startSecgroup(nats.url, nats.env('secgroup'), 'secgroup-2'));
    await Promise.all(secgroups.map((s) => s.ready));
    ipamClient = new IpamClient(await nats.connect('api'));
    sg = new SecgroupClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
  });

  afterAll(async () => {
    await ipamClient?.close();
    await sg?.close();
    await nc?.close();
    await Promise.all(secgroups.map((s) => s.stop()));
    await ipam?.stop();
    await nats?.stop();
  });

  /** Poll until the port's groups are set (bounded), then answer them. */
  async function groupsOf(portId: string, who: { tenant: string; admin: boolean }): Promise<string[]> {
    return waitFor<string[] | undefined>(
      async () => {
        const view = await sg.query('port.get', { portId }, who);
        return view.groupIds.length > 0 ? view.groupIds : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: `default membership of port ${portId}` },
    ) as Promise<string[]>;
  }

  it('puts every new port in its tenant default group exactly once', async () => {
    const networkA = await ipamClient.command('network.create', { name: 'a' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: networkA.id, cidr: '10.1.0.0/24' }, tenantA);
    const networkB = await ipamClient.command('network.create', { name: 'b' }, tenantB);
    await ipamClient.command('subnet.create', { networkId: networkB.id, cidr: '10.1.0.0/24' }, tenantB);

    // Ports in parallel, so both instances pull reactor work and race on the default group.
    const portsA = await Promise.all(Array.from({ length: 24 }, (_, i) => ipamClient.command('port.create', { networkId: networkA.id, name: `a${i}` }, tenantA)));
    const portsB = await Promise.all(Array.from({ length: 6 }, (_, i) => ipamClient.command('port.create', { networkId: networkB.id, name: `b${i}` }, tenantB)));
    sg.observe(ipamClient.lastSeq);

    const defaultA = defaultSecurityGroupId('tenant-a');
    const defaultB = defaultSecurityGroupId('tenant-b');
    for (const p of portsA) expect(await groupsOf(p.id, tenantA)).toEqual([defaultA]);
    for (const p of portsB) expect(await groupsOf(p.id, tenantB)).toEqual([defaultB]);

    for (const p of [...portsA, ...portsB]) {
      const events = await eventsOf(store, `strata.evt.secgroup.port.${p.id}`);
      expect(events.map((e) => e.type)).toEqual(['secgroup.PortGroupsSet']);
    }
    for (const [id, tenant] of [[defaultA, 'tenant-a'], [defaultB, 'tenant-b']] as const) {
      const events = await eventsOf(store, `strata.evt.secgroup.group.${id}`);
      expect(events.map((e) => e.type)).toEqual(['secgroup.GroupCreated']);
      expect(events[0]!.tenant).toBe(tenant);
    }

    const group = await sg.query('group.get', { id: defaultA }, tenantA);
    expect(group).toMatchObject({ id: defaultA, tenant: 'tenant-a', name: 'default', isDefault: true });
    expect(group.rules.map((r) => `${r.direction}/${r.ethertype}/${r.remoteGroupId ?? 'any'}`)).toEqual([
      'egress/IPv4/any',
      'egress/IPv6/any',
      `ingress/IPv4/${defaultA}`,
      `ingress/IPv6/${defaultA}`,
    ]);
    // The other tenant cannot see it.
    await expect(sg.query('group.get', { id: defaultA }, tenantB)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('forgets a deleted port exactly once, and keeps ports whose groups were set by hand', async () => {
    const network = await ipamClient.command('network.create', { name: 'c' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: network.id, cidr: '10.2.0.0/24' }, tenantA);
    const ports = await Promise.all(Array.from({ length: 6 }, () => ipamClient.command('port.create', { networkId: network.id }, tenantA)));
    sg.observe(ipamClient.lastSeq);
    for (const p of ports) await groupsOf(p.id, tenantA);

    const web = await sg.command('group.create', { name: 'web' }, tenantA);
    const kept = ports[0]!;
    expect((await sg.command('port.setGroups', { portId: kept.id, groupIds: [web.id] }, tenantA)).groupIds).toEqual([web.id]);

    const deleted = ports.slice(1);
    await Promise.all(deleted.map((p) => ipamClient.command('port.delete', { id: p.id }, tenantA)));
    for (const p of deleted) {
      const events = (await waitFor(
        async () => {
          const es = await eventsOf(store, `strata.evt.secgroup.port.${p.id}`);
          return es.some((e) => e.type === 'secgroup.PortForgotten') ? es : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, message: `PortForgotten for ${p.id}` },
      ))!;
      expect(events.map((e) => e.type)).toEqual(['secgroup.PortGroupsSet', 'secgroup.PortForgotten']);
      sg.observe(events[1]!.seq);
      await expect(sg.query('port.get', { portId: p.id }, tenantA)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await sg.query('port.get', { portId: kept.id }, tenantA)).groupIds).toEqual([web.id]);
    const keptEvents = await eventsOf(store, `strata.evt.secgroup.port.${kept.id}`);
    expect(keptEvents.map((e) => e.type)).toEqual(['secgroup.PortGroupsSet', 'secgroup.PortGroupsSet']);
  });

  it('the two instances agree on the state', async () => {
    // The queue group spreads queries over both instances; 20 answers at the same sequence, one digest.
    const seq = await store.lastSeq();
    sg.observe(seq);
    const answers = await Promise.all(Array.from({ length: 20 }, () => sg.query('state.digest', {}, { tenant: 'ops', admin: true })));
    expect(new Set(answers.map((a) => a.seq))).toEqual(new Set([seq]));
    expect(new Set(answers.map((a) => a.sha256)).size).toBe(1);
  });
});
