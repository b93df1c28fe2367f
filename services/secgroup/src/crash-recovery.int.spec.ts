/**
 * kill -9 of secgroup while commands and IPAM port creations are in flight:
 * after a restart (snapshot + tail) it converges. Every port ends in its
 * default group with exactly one PortGroupsSet, re-sent commands (same
 * request ids) create nothing twice, and the state equals a full replay.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { defaultSecurityGroupId } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startProvisionedNats } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { eventsOf, IpamClient, replayDigest, SecgroupClient, startIpam, startSecgroup, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
// Snapshot often, so the restart exercises snapshot + tail replay, not only a full replay.
const ENV = { SECGROUP_SNAPSHOT_EVERY: '25' };

describe('secgroup killed with SIGKILL mid-way', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let secgroup: ManagedProcess;
  let ipamClient: IpamClient;
  let sg: SecgroupClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    secgroup = startSecgroup(nats.url, { ...nats.env('secgroup'), ...ENV });
    await Promise.all([ipam.ready, secgroup.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    sg = new SecgroupClient(await nats.connect('api'), 3_000);
    nc = await nats.connect('api');
  });

  afterAll(async () => {
    await ipamClient?.close();
    await sg?.close();
    await nc?.close();
    await secgroup?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('converges after a restart: memberships exactly once, no command applied twice, state = replay', async () => {
    const network = await ipamClient.command('network.create', { name: 'n' }, tenantA);
    await ipamClient.command('subnet.create', { networkId: network.id, cidr: '10.40.0.0/22' }, tenantA);

    // Secgroup commands: 60 groups, each with one rule (a group's rule follows its creation).
    const requests = Array.from({ length: 60 }, (_, i) => ({ group: randomUUID(), rule: randomUUID(), name: `g${i}`, port: 1000 + i }));
    const acked = new Set<string>();
    let killed = false;
    const killAfter = 50;
    const portIds: string[] = [];

    const sendGroup = async (r: (typeof requests)[number]): Promise<void> => {
      // The group's id is derived from the request (never the request id itself): the retry learns it from the answer.
      const group = await sg.command('group.create', { name: r.name }, tenantA, r.group);
      acked.add(r.group);
      await sg.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: r.port }, tenantA, r.rule);
      acked.add(r.rule);
    };
    let next = 0;
    const commandWorker = async (): Promise<void> => {
      while (next < requests.length) {
        const r = requests[next++]!;
        try {
          await sendGroup(r);
        } catch {
          // unanswered while secgroup is dead: re-sent after the restart
        }
        if (!killed && acked.size >= killAfter) {
          killed = true;
          await secgroup.kill9();
        }
      }
    };
    // IPAM keeps creating ports through the crash: the reactor's backlog grows while secgroup is down.
    const portWorker = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) portIds.push((await ipamClient.command('port.create', { networkId: network.id, name: `vm${i}` }, tenantA)).id);
    };
    await Promise.all([...Array.from({ length: 6 }, commandWorker), portWorker(), portWorker()]);
    expect(killed).toBe(true);

    secgroup = startSecgroup(nats.url, { ...nats.env('secgroup'), ...ENV });
    await secgroup.ready;
    expect(secgroup.output()).toMatch(/"msg":"loaded snapshot"/);

    // Re-send every request (acknowledged or not) with its request id: nothing is created twice.
    for (const r of requests) await sendGroup(r);
    sg.observe(ipamClient.lastSeq);
    const groups = await sg.query('group.list', { limit: 1000 }, tenantA);
    expect(groups.items.filter((g) => !g.isDefault)).toHaveLength(requests.length);
    for (const g of groups.items.filter((x) => !x.isDefault)) expect(g.rules).toHaveLength(1);

    // Every port reaches its default group (a crashed instance's pulled events come back after the ack wait).
    const defaultId = defaultSecurityGroupId('tenant-a');
    for (const portId of portIds) {
      await waitFor(async () => (await sg.query('port.get', { portId }, tenantA)).groupIds.includes(defaultId), {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `default membership of ${portId}`,
      });
    }
    const store = await JetStreamEventStore.open(nc);
    for (const portId of portIds) {
      expect((await eventsOf(store, `strata.evt.secgroup.port.${portId}`)).map((e) => e.type)).toEqual(['secgroup.PortGroupsSet']);
    }
    expect((await eventsOf(store, `strata.evt.secgroup.group.${defaultId}`)).map((e) => e.type)).toEqual(['secgroup.GroupCreated']);

    // The restarted instance's state is exactly what a full replay of the log gives.
    const seq = await store.lastSeq();
    sg.observe(seq);
    const live = await sg.query('state.digest', {}, tenantA);
    expect(live.seq).toBe(seq);
    expect(live).toEqual(await replayDigest(store, seq));
  });
});
